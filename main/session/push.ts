/**
 * Push: the gateway's WebSocket (`/v1/api/ws`, docs/gateway.md "WebSocket (push)"), held while the
 * session is ready, so the keeper hears of trouble at once instead of at the next tickle. It only
 * ever raises a doubt; the keeper confirms every doubt with one paced `/iserver/auth/status`
 * (polling stays the truth and the fallback). A doubt is: an `sts` with `authenticated:false` or
 * `competing:true`, the socket closing, or no heartbeat for 24 s (they come every 10 s: after 19 s
 * without one a `tic` is sent, and 5 s more without a heartbeat is a doubt).
 *
 * The socket uses the same pinned-certificate rule as every other connection (`PinnedAgent`), and
 * the session id goes only into the cookie `api={"session":"<id>"}` of the upgrade; nothing of it is
 * logged. When the socket cannot be had (refused upgrade, proxy, old gateway), the keeper polls
 * alone, says so once in the log, and this module tries again later with backoff. Nothing here
 * throws into the keeper or sends a REST request.
 */
import { EventEmitter } from 'node:events';
import type https from 'node:https';
import WebSocket from 'ws';
import type { GatewayAddress } from './gateway-client.ts';
import { redactText } from './redact.ts';
import type { Clock, Scheduler, Timer } from './time.ts';
import { PinnedAgent } from './tls.ts';

export const PUSH = {
  /** A `tic` on the socket this often (the gateway asks for one at least every minute). */
  ticEveryMs: 60_000,
  /** No heartbeat for this long: a `tic` is sent, in case the socket only slept. */
  quietMs: 19_000,
  /** ...and no heartbeat this long after it is a doubt (24 s in all: under the 25 s promised, two and a half beats). */
  answerMs: 5_000,
  /** Waits before connecting again, after a close or a failure, one after the other; the last repeats. */
  backoffMs: [1_000, 5_000, 15_000, 60_000, 300_000],
  /** The largest frame taken (the gateway's `act` is a few kB). */
  maxFrameBytes: 1_048_576,
} as const;

/** What the keeper needs of push (tests and other front ends may give their own). */
export interface PushLink {
  /** Holds one socket for this session (a new id replaces the socket). */
  hold(session: string): void;
  /** Closes the socket and stops reconnecting (the session is not ready). */
  release(): void;
  stop(): Promise<void>;
  on(event: 'doubt', listener: (why: string) => void): unknown;
  on(event: 'log', listener: (line: string) => void): unknown;
}

export interface PushEvents {
  /** Something the keeper must confirm at once. */
  doubt: [string];
  log: [string];
}

export interface PushOptions {
  readonly address: GatewayAddress;
  /** The pinned fingerprint now (undefined: nothing pinned; a remote gateway then uses the system's CAs). */
  readonly fingerprint: () => string | undefined;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  /** The upgrade's timeout. Default 10 s. */
  readonly timeoutMs?: number;
  /**
   * Waits in real time for frames already on their way (the answer to a `tic`): frames travel in
   * real time even when the keeper's clock is virtual. Default: a timer.
   */
  readonly wait?: (ms: number, until: Promise<void>) => Promise<void>;
}

/** What push is doing, for the status line and tests. */
export type PushState = 'off' | 'connecting' | 'open' | 'waiting';

export class PushChannel extends EventEmitter<PushEvents> implements PushLink {
  readonly #options: PushOptions;
  readonly #timeoutMs: number;
  readonly #wait: (ms: number, until: Promise<void>) => Promise<void>;
  #session: string | undefined;
  #ws: WebSocket | undefined;
  #agent: https.Agent | undefined;
  #state: PushState = 'off';
  /** Connections in a row that failed or died without a heartbeat. */
  #streak = 0;
  /** The log said "polling alone" for the current failing streak. */
  #saidFailing = false;
  #retry: Timer | undefined;
  #tic: Timer | undefined;
  #quiet: Timer | undefined;
  #lastBeatMono = 0;
  #beatArrived: (() => void) | undefined;
  /** Bumped for every socket, so the events of an old one are ignored. */
  #generation = 0;
  /** Sockets opened, in all (tests, the benchmark). */
  opened = 0;

  constructor(options: PushOptions) {
    super();
    this.#options = options;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#wait = options.wait ?? realWait;
  }

  get state(): PushState {
    return this.#state;
  }

  hold(session: string): void {
    if (this.#session === session && this.#state !== 'off') return;
    this.#session = session;
    this.#streak = 0;
    this.#close();
    this.#connect();
  }

  release(): void {
    this.#session = undefined;
    this.#close();
  }

  async stop(): Promise<void> {
    this.release();
    this.#agent?.destroy();
    this.#agent = undefined;
  }

  #connect(): void {
    const session = this.#session;
    if (session === undefined) return;
    const generation = ++this.#generation;
    const { address } = this.#options;
    const pin = this.#options.fingerprint();
    if (pin === undefined && address.loopback)
      return this.#failed(generation, 'no certificate is pinned for the gateway yet');
    this.#state = 'connecting';
    let ws: WebSocket;
    try {
      ws = new WebSocket(`${address.origin.replace(/^https:/, 'wss:')}/v1/api/ws`, {
        agent: this.#agentFor(pin),
        // The session id goes here and nowhere else (docs/gateway.md: the text-frame handshake is unreliable).
        headers: { cookie: `api=${JSON.stringify({ session })}`, 'user-agent': 'ibkr-session-keeper' },
        handshakeTimeout: this.#timeoutMs,
        maxPayload: PUSH.maxFrameBytes,
        perMessageDeflate: false,
        followRedirects: false,
      });
    } catch (error) {
      return this.#failed(generation, describe(error));
    }
    this.#ws = ws;
    let failure: string | undefined;
    ws.on('open', () => {
      if (generation !== this.#generation) return;
      this.#state = 'open';
      this.opened += 1;
      if (this.#saidFailing) this.emit('log', "Push: the gateway's WebSocket is back; drops are heard at once again.");
      this.#saidFailing = false;
      this.#tic = this.#options.scheduler.after(PUSH.ticEveryMs, () => this.#sendTic(generation));
    });
    ws.on('message', (data, binary) => {
      if (generation !== this.#generation) return;
      if (!binary) this.#read(String(data));
    });
    ws.on('unexpected-response', (_req, res) => {
      failure = `the gateway answered the upgrade with HTTP ${res.statusCode}`;
      res.resume();
      ws.terminate();
    });
    ws.on('error', (error) => {
      failure ??= describe(error);
    });
    ws.on('close', (code) => {
      if (generation !== this.#generation) return;
      const wasOpen = this.#state === 'open';
      this.#cancelTimers();
      this.#ws = undefined;
      if (!wasOpen) return this.#failed(generation, failure ?? `closed before it opened (code ${code})`);
      this.emit('doubt', `the gateway closed its WebSocket (code ${code})`);
      this.#reconnectLater();
    });
  }

  /**
   * A heartbeat: the socket lives. The watch for silence starts with a socket's first heartbeat, so
   * a gateway build that never sends any costs no request (polling covers it).
   */
  #beat(): void {
    this.#lastBeatMono = this.#options.clock.monotonic();
    this.#beatArrived?.();
    this.#beatArrived = undefined;
    this.#quiet?.cancel();
    const generation = this.#generation;
    this.#quiet = this.#options.scheduler.after(PUSH.quietMs, () => this.#ask(generation));
  }

  #read(text: string): void {
    let frame: { topic?: unknown; hb?: unknown; args?: { authenticated?: unknown; competing?: unknown } } | null;
    try {
      frame = JSON.parse(text) as typeof frame;
    } catch {
      return; // e.g. "Topic unknown '...'": nothing the keeper acts on
    }
    if (frame === null || typeof frame !== 'object') return;
    if (frame.topic === 'system' && typeof frame.hb === 'number') {
      this.#streak = 0; // a beating socket: the next trouble starts the backoff anew
      this.#beat();
      return;
    }
    if (frame.topic !== 'sts' || frame.args === null || typeof frame.args !== 'object') return;
    if (frame.args.authenticated === false) this.emit('doubt', 'the gateway pushed "not authenticated"');
    else if (frame.args.competing === true)
      this.emit('doubt', 'the gateway pushed "competing": another login wants the session');
  }

  /**
   * 19 s without a heartbeat: a `tic` to wake it, then up to 5 s (real time: frames on their way
   * arrive in real time, even under a virtual clock) for a heartbeat; none is a doubt.
   */
  async #ask(generation: number): Promise<void> {
    if (generation !== this.#generation || this.#state !== 'open') return;
    const since = this.#lastBeatMono;
    const arrived = new Promise<void>((resolve) => (this.#beatArrived = resolve));
    this.#send('tic');
    await this.#wait(PUSH.answerMs, arrived);
    if (generation !== this.#generation || this.#state !== 'open' || this.#lastBeatMono !== since) return;
    this.emit('doubt', "no heartbeat from the gateway's WebSocket for 24 s");
    this.#close();
    this.#reconnectLater();
  }

  #sendTic(generation: number): void {
    if (generation !== this.#generation || this.#state !== 'open') return;
    this.#send('tic');
    this.#tic = this.#options.scheduler.after(PUSH.ticEveryMs, () => this.#sendTic(generation));
  }

  #send(text: string): void {
    try {
      if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(text);
    } catch {
      // a socket closing under us: its close event follows
    }
  }

  /** The upgrade failed: polling alone, said once per failing streak, and another try later. */
  #failed(generation: number, why: string): void {
    if (generation !== this.#generation) return;
    this.#ws = undefined;
    this.#cancelTimers();
    const wait = this.#reconnectLater();
    if (!this.#saidFailing) {
      this.#saidFailing = true;
      this.emit(
        'log',
        `Push is not available (${why}): the keeper relies on polling alone (drops are noticed at the next ` +
          `tickle) and tries the WebSocket again in ${Math.round(wait / 1_000)} s, then less often.`,
      );
    }
  }

  #reconnectLater(): number {
    this.#state = this.#session === undefined ? 'off' : 'waiting';
    const wait = PUSH.backoffMs[Math.min(this.#streak, PUSH.backoffMs.length - 1)]!;
    this.#streak += 1;
    this.#retry?.cancel();
    if (this.#session !== undefined) this.#retry = this.#options.scheduler.after(wait, () => this.#connect());
    return wait;
  }

  #close(): void {
    this.#generation += 1;
    this.#cancelTimers();
    this.#retry?.cancel();
    this.#retry = undefined;
    const ws = this.#ws;
    this.#ws = undefined;
    this.#state = 'off';
    if (ws !== undefined) {
      ws.removeAllListeners('open');
      ws.on('error', () => undefined);
      ws.terminate();
    }
  }

  #cancelTimers(): void {
    this.#tic?.cancel();
    this.#quiet?.cancel();
    this.#beatArrived?.();
    this.#beatArrived = undefined;
  }

  /** One agent per pin: the socket is handed on only after the fingerprint matched. */
  #agentFor(pin: string | undefined): https.Agent | undefined {
    if (pin === undefined) return undefined;
    if (this.#agent instanceof PinnedAgent && this.#agent.fingerprint256 === pin) return this.#agent;
    this.#agent?.destroy();
    this.#agent = new PinnedAgent(pin, { timeoutMs: this.#timeoutMs });
    return this.#agent;
  }
}

function realWait(ms: number, until: Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    void until.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function describe(error: unknown): string {
  const text = redactText(String((error as Error | null)?.message ?? error))
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

/** Push for a gateway client: its address, and its pin read afresh at every connection. */
export function pushFor(
  client: { readonly address: GatewayAddress; trustedFingerprint(): string | undefined },
  clock: Clock,
  scheduler: Scheduler,
  timeoutMs?: number,
): PushChannel {
  const fingerprint = (): string | undefined => {
    try {
      return client.trustedFingerprint();
    } catch {
      return undefined; // a damaged trust store: the keeper's own step shows it
    }
  };
  return new PushChannel({
    address: client.address,
    fingerprint,
    clock,
    scheduler,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
}
