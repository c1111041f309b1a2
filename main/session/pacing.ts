/**
 * Request pacing, so that nothing the keeper sends can trip the gateway's rate limits (docs/gateway.md:
 * `/tickle` 1/s, `/sso/validate` 1/min, 10/s overall, then a 10-minute penalty box), even across
 * processes: the ledger lives in `pacing.json` of the config directory, so running `status` in a
 * loop stays within the limits. Our own limits keep a margin below IBKR's.
 */
import * as z from './zod.ts';
import { JsonStore, memoryStore, type Store } from './json-store.ts';

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

  constructor(storage: LedgerStorage, origin: string, now: () => number = Date.now) {
    this.#storage = storage;
    this.#origin = origin;
    this.#now = now;
  }

  /** Whether `endpoint` may be requested now. */
  decide(endpoint: Endpoint): PaceDecision {
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
    if (endpoint === 'validate') {
      const since = sinceLast(entry, 'validate', now);
      if (since < PACING.validateGapMs) return { action: 'refuse', reason: 'too-soon', retryAfterMs: PACING.validateGapMs - since };
    }
    let waitMs = 0;
    if (endpoint === 'tickle') waitMs = Math.max(waitMs, PACING.tickleGapMs - sinceLast(entry, 'tickle', now));
    if (entry.recent.length >= PACING.perSecond) {
      const oldest = entry.recent[entry.recent.length - PACING.perSecond]!;
      waitMs = Math.max(waitMs, oldest + 1_000 - now);
    }
    return waitMs > 0 ? { action: 'wait', ms: waitMs } : { action: 'send' };
  }

  /** Records that `endpoint` is being requested now; returns the time recorded, for `recordDone`. */
  recordSent(endpoint: Endpoint): number {
    const now = this.#now();
    this.#change(now, (entry) => ({
      ...entry,
      recent: [...entry.recent, now],
      last: { ...entry.last, [endpoint]: now },
    }));
    return now;
  }

  /**
   * Moves a request's time from when it went out to when its answer (or its failure) came back.
   * The gateway counts a request when it arrives, somewhere in between; spacing the next one from
   * the end keeps every gap at least as wide at the gateway as here, however late the last one
   * arrived (a busy computer, a slow network), since requests never overlap.
   */
  recordDone(endpoint: Endpoint, sentAt: number): void {
    const now = this.#now();
    this.#change(now, (entry) => {
      const at = entry.recent.lastIndexOf(sentAt);
      return {
        ...entry,
        recent: at === -1 ? [...entry.recent, now] : entry.recent.map((t, i) => (i === at ? now : t)),
        last: { ...entry.last, [endpoint]: Math.max(entry.last[endpoint] ?? now, now) },
      };
    });
  }

  /** Records a 429: nothing more goes to this origin until the penalty is over. */
  recordRateLimited(): number {
    const until = this.#now() + PACING.penaltyMs;
    this.#change(this.#now(), (entry) => ({ ...entry, penaltyUntil: until }));
    return until;
  }

  /** Keeps what a `/sso/validate` answered, for runs that may not ask again yet. */
  rememberSso(answer: Omit<SsoMemory, 'at'>): void {
    const now = this.#now();
    const { RESULT, USER_NAME, USER_ID, LOGIN_TYPE, EXPIRES } = answer;
    this.#change(now, (entry) => ({ ...entry, sso: { at: now, RESULT, USER_NAME, USER_ID, LOGIN_TYPE, EXPIRES } }));
  }

  /** The last `/sso/validate` answer, with `EXPIRES` counted down to now, if one is remembered. */
  recallSso(): SsoMemory | undefined {
    const now = this.#now();
    const sso = this.#entry(this.#storage.read(), now).sso;
    if (sso === undefined) return undefined;
    return sso.EXPIRES === undefined ? sso : { ...sso, EXPIRES: Math.max(0, sso.EXPIRES - Math.max(0, now - sso.at)) };
  }

  /** When the current penalty ends (epoch ms), if one is running. */
  penaltyUntil(): number | undefined {
    const now = this.#now();
    const until = this.#entry(this.#storage.read(), now).penaltyUntil;
    return until !== undefined && until > now ? until : undefined;
  }

  #change(now: number, change: (entry: OriginLedger) => OriginLedger): void {
    const ledger = this.#storage.read();
    ledger.origins[this.#origin] = change(this.#entry(ledger, now));
    this.#storage.write(ledger);
  }

  /** This origin's entry with timestamps older than a second dropped (and none in the future). */
  #entry(ledger: Ledger, now: number): OriginLedger {
    const entry = ledger.origins[this.#origin] ?? { recent: [], last: {} };
    return { ...entry, recent: entry.recent.filter((t) => t > now - 1_000 && t <= now) };
  }
}

/** Milliseconds since `endpoint` was last sent. */
function sinceLast(entry: OriginLedger, endpoint: Endpoint, now: number): number {
  const last = entry.last[endpoint];
  return last === undefined ? Number.POSITIVE_INFINITY : now - last;
}
