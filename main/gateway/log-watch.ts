/**
 * Follows the gateway's own log, `logs/gw.YYYY-MM-DD.log` in its folder (a new file each local
 * day), for the lines a keeper can act on (docs/gateway.md, "Its log"): a login that succeeded
 * (check the session at once instead of at the next interval) and a login that failed (said in the
 * reason of the session's state, main/gateway/link.ts).
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Clock, Scheduler, Timer } from '../session/time.ts';

/** A line of the gateway's log that means something to the keeper. */
export type GatewayLogEvent =
  | { readonly kind: 'login'; readonly line: string }
  | { readonly kind: 'reauth-stopped' | 'auth-failed'; readonly line: string; readonly reason: string };

/** What a line means, or undefined for the many that mean nothing here. */
export function classifyLogLine(line: string): GatewayLogEvent | undefined {
  if (line.includes('Client login succeeds')) return { kind: 'login', line };
  if (line.includes('Reauthentication failed 5 times, stopping')) {
    return {
      kind: 'reauth-stopped',
      line,
      reason:
        'the gateway\'s log says "Reauthentication failed 5 times, stopping": it gave up logging in to IBKR ' +
        "again; log in again on the gateway's login page.",
    };
  }
  if (/authentication to cp failed/i.test(line)) {
    return {
      kind: 'auth-failed',
      line,
      reason:
        'the gateway\'s log says "authentication to cp failed": it could not log in to IBKR and tries again; ' +
        "if this stays, log in again on the gateway's login page.",
    };
  }
  return undefined;
}

/** The log file of the local day of `time`: `<dir>/logs/gw.2026-11-29.log`. */
export function gatewayLogFile(dir: string, time: number): string {
  const d = new Date(time);
  const two = (n: number): string => String(n).padStart(2, '0');
  return path.join(dir, 'logs', `gw.${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}.log`);
}

function sizeOf(file: string): number | undefined {
  try {
    return statSync(file).size;
  } catch {
    return undefined;
  }
}

/**
 * Polls today's log for new lines (`pollMs`, 250 ms by default: a stat per poll). Lines already
 * in the file when it starts are not reported; a new day's file is read from its start.
 */
export class GatewayLogWatcher {
  readonly #dir: string;
  readonly #clock: Clock;
  readonly #scheduler: Scheduler;
  readonly #pollMs: number;
  readonly #onEvent: (event: GatewayLogEvent) => unknown;
  #file: string | undefined;
  #offset = 0;
  #partial = '';
  #timer: Timer | undefined;

  constructor(options: {
    dir: string;
    clock: Clock;
    scheduler: Scheduler;
    onEvent: (event: GatewayLogEvent) => unknown;
    pollMs?: number;
  }) {
    this.#dir = options.dir;
    this.#clock = options.clock;
    this.#scheduler = options.scheduler;
    this.#pollMs = options.pollMs ?? 250;
    this.#onEvent = options.onEvent;
  }

  /** The file followed now. */
  get file(): string {
    return this.#file ?? gatewayLogFile(this.#dir, this.#clock.wall());
  }

  start(): void {
    if (this.#timer) return;
    this.#file = gatewayLogFile(this.#dir, this.#clock.wall());
    this.#offset = sizeOf(this.#file) ?? 0;
    this.#partial = '';
    // The handlers' promises are returned to the scheduler (virtual time waits for them).
    const tick = async (): Promise<void> => {
      this.#timer = this.#scheduler.after(this.#pollMs, tick);
      await Promise.all(this.poll().map((e) => this.#onEvent(e)));
    };
    this.#timer = this.#scheduler.after(this.#pollMs, tick);
  }

  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /** Reads what was added since the last poll (and follows the date); returns the events found. */
  poll(): GatewayLogEvent[] {
    const today = gatewayLogFile(this.#dir, this.#clock.wall());
    if (this.#file === undefined) this.#file = today;
    const events = this.#read();
    if (today !== this.#file) {
      // The previous day's file was read to its end above; the new one from its start.
      this.#file = today;
      this.#offset = 0;
      this.#partial = '';
      events.push(...this.#read());
    }
    return events;
  }

  #read(): GatewayLogEvent[] {
    const events: GatewayLogEvent[] = [];
    const file = this.#file!;
    const size = sizeOf(file);
    if (size === undefined) return events;
    if (size < this.#offset) this.#offset = 0; // replaced or truncated
    if (size === this.#offset) return events;
    let fd: number | undefined;
    try {
      fd = openSync(file, 'r');
      const buffer = Buffer.alloc(Math.min(size - this.#offset, 4_194_304));
      const n = readSync(fd, buffer, 0, buffer.length, this.#offset);
      this.#offset += n;
      const lines = (this.#partial + buffer.subarray(0, n).toString('utf8')).split('\n');
      this.#partial = lines.pop() ?? '';
      for (const line of lines) {
        const event = classifyLogLine(line);
        if (event) events.push(event);
      }
    } catch {
      // Unreadable for a moment (rotated, permissions): the next poll tries again.
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    return events;
  }
}
