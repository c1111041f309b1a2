/**
 * Request pacing, so that nothing the keeper sends can trip the gateway's rate limits (docs/gateway.md:
 * `/tickle` 1/s, `/sso/validate` 1/min, 10/s overall, then a 10-minute penalty box), even across
 * processes: the ledger lives in `pacing.json` of the config directory, so running `status` in a
 * loop stays within the limits. Our own limits keep a margin below IBKR's. Every read-change-write
 * of the ledger holds its lock (`pacing.lock`, an operating-system lock: see file-lock.ts), and a
 * request is decided and recorded in one such step (`claim`), so any number of processes sharing
 * the folder never send more than one process would.
 */
import { randomInt } from 'node:crypto';
import * as z from './zod.ts';
import { exclusively, JsonStore, memoryStore, type Store } from './json-store.ts';

/** The calls the keeper makes, by name. */
export type Endpoint = 'tickle' | 'authStatus' | 'reauthenticate' | 'ssoInit' | 'validate' | 'logout';

/** Our limits: IBKR's, with a margin. */
export const PACING = {
  /** At least this long between two tickles (IBKR: 1/s). */
  tickleGapMs: 1_100,
  /** At least this long between two `/sso/validate` (IBKR: 1/min). */
  validateGapMs: 65_000,
  /** At most this many requests in any second (IBKR: 10/s). */
  perSecond: 5,
  /** How long to send nothing after a 429 (IBKR's penalty box). */
  penaltyMs: 600_000,
  /** How often to look again while the limit is taken by requests still in flight. */
  inFlightPollMs: 50,
  /** A request in flight longer than this is forgotten (its process must have lost it). */
  inFlightMaxMs: 120_000,
} as const;

/** The last `/sso/validate` answer, without secrets, so a run that may not ask again can still tell. */
const ssoMemorySchema = z.object({
  at: z.number(),
  RESULT: z.boolean(),
  USER_NAME: z.optional(z.string()),
  USER_ID: z.optional(z.number()),
  LOGIN_TYPE: z.optional(z.number()),
  EXPIRES: z.optional(z.number()),
});
export type SsoMemory = z.infer<typeof ssoMemorySchema>;

const originSchema = z.object({
  recent: z.array(z.number()),
  last: z.record(z.string(), z.number()),
  penaltyUntil: z.optional(z.number()),
  sso: z.optional(ssoMemorySchema),
  /**
   * Requests sent and not answered yet, by any process: the gateway may count each of them at
   * any moment until its answer, so they count as sent "now" until then.
   */
  inFlight: z.optional(z.array(z.object({ endpoint: z.string(), at: z.number(), pid: z.number(), pacer: z.number() }))),
});
const ledgerSchema = z.object({ version: z.literal(1), origins: z.record(z.string(), originSchema) });
export type Ledger = z.infer<typeof ledgerSchema>;
type OriginLedger = z.infer<typeof originSchema>;

/** Where the ledger is kept: a file for the CLI, memory for tests and simulated days. */
export type LedgerStorage = Store<Ledger>;

const emptyLedger = (): Ledger => ({ version: 1, origins: {} });

/** The ledger in `pacing.json` of the config directory. */
export function fileLedger(configDir: string): LedgerStorage {
  return new JsonStore({ dir: configDir, name: 'pacing', schema: ledgerSchema, empty: emptyLedger });
}

/** A ledger that lives as long as the process. */
export const memoryLedger = (): LedgerStorage => memoryStore(emptyLedger);

/** What the pacer says about sending a request now. */
export type PaceDecision =
  | { readonly action: 'send' }
  | { readonly action: 'wait'; readonly ms: number }
  | { readonly action: 'refuse'; readonly reason: 'penalty' | 'too-soon'; readonly retryAfterMs: number };

/**
 * Decides, for one gateway origin, whether a request may go now, and records what was sent.
 * Waits are short (under a second and a bit); a `/sso/validate` too soon after the last one and
 * anything during a penalty are refused instead, since waiting would take minutes.
 */
export class Pacer {
  readonly #storage: LedgerStorage;
  readonly #origin: string;
  readonly #now: () => number;
  readonly #pid: number;
  /** Tells this pacer's requests in flight from those of other pacers (processes, or clients in one). */
  readonly #id = randomInt(2 ** 31);

  constructor(storage: LedgerStorage, origin: string, now: () => number = Date.now, pid = process.pid) {
    this.#storage = storage;
    this.#origin = origin;
    this.#now = now;
    this.#pid = pid;
  }

  /** Whether `endpoint` may be requested now. */
  decide(endpoint: Endpoint): PaceDecision {
    return exclusively(this.#storage, () => this.#decide(endpoint));
  }

  /**
   * Decides and, when the request may go now, records it as sent, in one step under the ledger's
   * lock, so that no other process (another `status`, the keeper) can take the same slot between
   * the decision and the record. Returns the time recorded (for `recordDone`), or undefined when
   * the request may not go now (ask `decide` again: it says how long to wait, or why not at all).
   */
  claim(endpoint: Endpoint): number | undefined {
    return exclusively(this.#storage, () =>
      this.#decide(endpoint).action === 'send' ? this.recordSent(endpoint) : undefined,
    );
  }

  #decide(endpoint: Endpoint): PaceDecision {
    const now = this.#now();
    const ledger = this.#storage.read();
    const entry = this.#entry(ledger, now);
    const penaltyCap = now + PACING.penaltyMs;
    if (Object.values(entry.last).some((t) => t > now) || (entry.penaltyUntil ?? 0) > penaltyCap) {
      // The clock was set back: what was sent "in the future" counts as sent now, once, not until
      // then; a penalty lasts no longer than a penalty.
      entry.last = Object.fromEntries(Object.entries(entry.last).map(([k, t]) => [k, Math.min(t, now)]));
      if (entry.penaltyUntil !== undefined) entry.penaltyUntil = Math.min(entry.penaltyUntil, penaltyCap);
      ledger.origins[this.#origin] = entry;
      this.#storage.write(ledger);
    }
    if (entry.penaltyUntil !== undefined && entry.penaltyUntil > now) {
      return { action: 'refuse', reason: 'penalty', retryAfterMs: entry.penaltyUntil - now };
    }
    // This pacer's own requests never overlap (its client sends one at a time): only others' count.
    const flying = (entry.inFlight ?? []).filter((f) => f.pacer !== this.#id);
    const inFlight = (e: Endpoint): boolean => flying.some((f) => f.endpoint === e);
    if (endpoint === 'validate') {
      const since = inFlight('validate') ? 0 : sinceLast(entry, 'validate', now);
      if (since < PACING.validateGapMs)
        return { action: 'refuse', reason: 'too-soon', retryAfterMs: PACING.validateGapMs - since };
    }
    let waitMs = 0;
    if (endpoint === 'tickle')
      waitMs = Math.max(
        PACING.tickleGapMs - sinceLast(entry, 'tickle', now),
        inFlight('tickle') ? PACING.inFlightPollMs : 0,
      );
    const times = [...entry.recent].sort((a, b) => a - b);
    if (times.length >= PACING.perSecond)
      waitMs = Math.max(waitMs, times[times.length - PACING.perSecond]! + 1_000 - now);
    // Requests of other processes still in flight count as sent now: the gateway may count them at
    // any moment until they are answered (a slow handshake on a busy computer: seconds).
    const answered = [...times];
    for (const f of flying) if (answered.includes(f.at)) answered.splice(answered.indexOf(f.at), 1);
    const over = answered.length + flying.length - PACING.perSecond + 1;
    if (over > 0)
      waitMs = Math.max(waitMs, over <= answered.length ? answered[over - 1]! + 1_000 - now : PACING.inFlightPollMs);
    return waitMs > 0 ? { action: 'wait', ms: waitMs } : { action: 'send' };
  }

  /** Records that `endpoint` is being requested now; returns the time recorded, for `recordDone`. */
  recordSent(endpoint: Endpoint): number {
    return this.#change((entry, now) => ({
      ...entry,
      recent: [...entry.recent, now],
      last: { ...entry.last, [endpoint]: now },
      inFlight: [...(entry.inFlight ?? []), { endpoint, at: now, pid: this.#pid, pacer: this.#id }],
    }));
  }

  /**
   * Moves a request's time from when it went out to when its answer (or its failure) came back.
   * The gateway counts a request when it arrives, somewhere in between; spacing the next one from
   * the end keeps every gap at least as wide at the gateway as here, however late the last one
   * arrived (a busy computer, a slow network). Requests of several processes do overlap: until
   * this is called, the request counts as in flight (see `inFlight`).
   */
  recordDone(endpoint: Endpoint, sentAt: number): void {
    this.#change((entry, now) => {
      const at = entry.recent.lastIndexOf(sentAt);
      const flying = [...(entry.inFlight ?? [])];
      const mine = flying.findIndex((f) => f.endpoint === endpoint && f.at === sentAt && f.pacer === this.#id);
      if (mine !== -1) flying.splice(mine, 1);
      return {
        ...entry,
        inFlight: flying,
        recent: at === -1 ? [...entry.recent, now] : entry.recent.map((t, i) => (i === at ? now : t)),
        last: { ...entry.last, [endpoint]: Math.max(entry.last[endpoint] ?? now, now) },
      };
    });
  }

  /** Records a 429: nothing more goes to this origin until the penalty is over. */
  recordRateLimited(): number {
    return this.#change((entry, now) => ({ ...entry, penaltyUntil: now + PACING.penaltyMs })) + PACING.penaltyMs;
  }

  /** Keeps what a `/sso/validate` answered, for runs that may not ask again yet. */
  rememberSso(answer: Omit<SsoMemory, 'at'>): void {
    const { RESULT, USER_NAME, USER_ID, LOGIN_TYPE, EXPIRES } = answer;
    this.#change((entry, now) => ({ ...entry, sso: { at: now, RESULT, USER_NAME, USER_ID, LOGIN_TYPE, EXPIRES } }));
  }

  /** Forgets the remembered `/sso/validate` answer (after a logout it no longer holds). */
  forgetSso(): void {
    this.#change(({ sso: _gone, ...entry }) => entry);
  }

  /** The last `/sso/validate` answer, with `EXPIRES` counted down to now, if one is remembered. */
  recallSso(): SsoMemory | undefined {
    const now = this.#now();
    const sso = this.#entry(this.#storage.read(), now).sso;
    if (sso === undefined) return undefined;
    return sso.EXPIRES === undefined ? sso : { ...sso, EXPIRES: Math.max(0, sso.EXPIRES - Math.max(0, now - sso.at)) };
  }

  /**
   * A read-change-write of this origin's entry, under the ledger's lock (other processes share the
   * file); returns the time it happened. The time is taken once the lock is held: taken before, a
   * wait for the lock would make what others recorded meanwhile look "in the future", and the
   * entry would drop it (answered requests lost from the last second: more sent than allowed).
   */
  #change(change: (entry: OriginLedger, now: number) => OriginLedger): number {
    return exclusively(this.#storage, () => {
      const now = this.#now();
      const ledger = this.#storage.read();
      ledger.origins[this.#origin] = change(this.#entry(ledger, now), now);
      this.#storage.write(ledger);
      return now;
    });
  }

  /**
   * This origin's entry with timestamps older than a second dropped (and none in the future), and
   * requests in flight forgotten once their process is gone or they are far too old.
   */
  #entry(ledger: Ledger, now: number): OriginLedger {
    const entry = ledger.origins[this.#origin] ?? { recent: [], last: {} };
    const inFlight = entry.inFlight?.filter(
      (f) => now - f.at < PACING.inFlightMaxMs && (f.pid === this.#pid || isRunning(f.pid)),
    );
    return {
      ...entry,
      recent: entry.recent.filter((t) => t > now - 1_000 && t <= now),
      ...(inFlight === undefined ? {} : { inFlight }),
    };
  }
}

/** Whether a process is still there (a request it had in flight may still reach the gateway). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Milliseconds since `endpoint` was last sent. */
function sinceLast(entry: OriginLedger, endpoint: Endpoint, now: number): number {
  const last = entry.last[endpoint];
  return last === undefined ? Number.POSITIVE_INFINITY : now - last;
}
