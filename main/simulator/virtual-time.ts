/**
 * Virtual time for tests and the benchmark: a clock and a scheduler whose timers fire as fast as
 * the work between them allows, so a simulated day runs in seconds. The simulator's clock follows
 * (`onAdvance`). A callback's promise is awaited before time moves on, so each step of the keeper,
 * with its real HTTPS requests to the simulator, finishes at the virtual moment it began.
 */
import type { Clock, Scheduler, Timer } from '../session/time.ts';

interface Entry {
  readonly at: number;
  readonly seq: number;
  readonly run: () => Promise<void> | void;
  cancelled: boolean;
}

export class VirtualTime implements Clock, Scheduler {
  #wall: number;
  #mono = 0;
  #seq = 0;
  #entries: Entry[] = [];
  readonly #onAdvance: ((ms: number) => void) | undefined;

  constructor(startWall = Date.now(), onAdvance?: (ms: number) => void) {
    this.#wall = startWall;
    this.#onAdvance = onAdvance;
  }

  wall(): number {
    return this.#wall;
  }

  monotonic(): number {
    return this.#mono;
  }

  after(ms: number, run: () => Promise<void> | void): Timer {
    const entry: Entry = { at: this.#mono + Math.max(0, ms), seq: this.#seq++, run, cancelled: false };
    this.#entries.push(entry);
    return { cancel: () => void (entry.cancelled = true) };
  }

  /** Runs every timer due in the next `ms`, in order, then stops at the end of it. */
  async runFor(ms: number): Promise<void> {
    const end = this.#mono + ms;
    for (;;) {
      this.#entries = this.#entries.filter((e) => !e.cancelled);
      let next: Entry | undefined;
      for (const e of this.#entries)
        if (e.at <= end && (next === undefined || e.at < next.at || (e.at === next.at && e.seq < next.seq))) next = e;
      if (next === undefined) break;
      this.#entries.splice(this.#entries.indexOf(next), 1);
      this.#advanceTo(next.at);
      await next.run();
    }
    this.#advanceTo(end);
  }

  /** Time spent inside a step (the pacer's short waits): both clocks move, no timer fires meanwhile. */
  sleep = async (ms: number): Promise<void> => {
    this.#advanceTo(this.#mono + Math.max(0, ms));
  };

  /** The computer sleeps: wall time passes (the gateway's too), monotonic time and timers stand still. */
  suspend(ms: number): void {
    this.#wall += ms;
    this.#onAdvance?.(ms);
  }

  /** The wall clock is set forward or back (NTP, a person); no time passes anywhere else. */
  jumpWall(ms: number): void {
    this.#wall += ms;
  }

  #advanceTo(mono: number): void {
    const delta = mono - this.#mono;
    if (delta <= 0) return;
    this.#mono = mono;
    this.#wall += delta;
    this.#onAdvance?.(delta);
  }
}
