/**
 * The keeper's timings and its recovery budget (docs/design.md, "Rules"): a few
 * reauthentications per drop with growing pauses and jitter, a cap per hour, persisted so that a
 * restart does not reset them. Never a login loop.
 */
import * as z from './zod.ts';
import { JsonStore, memoryStore, type Store } from './json-store.ts';

export const POLICY = {
  /** After "triggered", the auth status is polled this often... */
  reauthPollMs: 2_000,
  /** ...for this long, then the attempt counts as failed. */
  reauthPollForMs: 60_000,
  /** Waits between checks while the gateway is down. */
  gatewayBackoffMs: [5_000, 15_000, 30_000, 60_000],
  /** A state leaving `ready` is confirmed by another look this much later. */
  confirmAfterMs: 500,
  /** While the user is logging in (after "Open login page"), checks are this frequent... */
  loginPollMs: 5_000,
  /** ...for this long. */
  loginPollForMs: 600_000,
  /** `/sso/validate` at most this often. */
  validateEveryMs: 300_000,
  /** Pause before the 1st, 2nd, 3rd reauthentication of one drop (with jitter). */
  reauthPausesMs: [0, 30_000, 120_000],
  /** Reauthentications in any hour, across drops. */
  reauthPerHour: 6,
  /** Jitter on pauses: up to this fraction either way. */
  jitter: 0.2,
  /** A watchdog compares the clocks this often to notice sleep and clock jumps. */
  watchdogMs: 5_000,
  /** A drift between wall and monotonic time larger than this is a sleep or a clock change. */
  driftMs: 10_000,
  /** A session lost again this soon after the keeper's reauthentication brought it back... */
  tugOfWarWithinMs: 600_000,
  /** ...this many times in a row is another login taking it back: the keeper stops. */
  tugOfWarLosses: 2,
} as const;

const budgetSchema = z.object({
  version: z.literal(1),
  /** Wall times of reauthentications in the last hour. */
  attempts: z.array(z.number()),
  /** The drop being recovered: when it began, and how many reauthentications it has had. */
  drop: z.nullable(
    z.object({ since: z.number(), attempts: z.int().check(z.nonnegative()), lastAt: z.optional(z.number()) }),
  ),
  /** When the session last came back, and whether a reauthentication of the keeper's brought it. */
  recovered: z.optional(z.object({ at: z.number(), byKeeper: z.boolean() })),
  /** Sessions lost again soon after the keeper's reauthentication brought them back, in a row. */
  quickLosses: z.optional(z.int().check(z.nonnegative())),
});
type BudgetFile = z.infer<typeof budgetSchema>;

/** Where the budget is kept: `recovery.json` in the config folder, or memory. */
export type BudgetStorage = Store<BudgetFile>;

const emptyBudget = (): BudgetFile => ({ version: 1, attempts: [], drop: null });

export function fileBudget(configDir: string): BudgetStorage {
  return new JsonStore({ dir: configDir, name: 'recovery', schema: budgetSchema, empty: emptyBudget });
}

export const memoryBudget = (): BudgetStorage => memoryStore(emptyBudget);

/** The answer to "may the keeper reauthenticate, and when?" */
export type ReauthPermission =
  | { readonly allowed: true; readonly atWall: number }
  | { readonly allowed: false; readonly why: string; readonly untilWall?: number; readonly tugOfWar?: boolean };

/** The recovery budget. */
export class RecoveryBudget {
  readonly #storage: BudgetStorage;
  readonly #random: () => number;

  constructor(storage: BudgetStorage, random: () => number = Math.random) {
    this.#storage = storage;
    this.#random = random;
  }

  /**
   * A drop begins (the session was ready); a drop already under way (e.g. before a restart) goes on.
   * A session lost again within minutes of the keeper's reauthentication counts towards a tug of war.
   */
  beginDrop(now: number): void {
    const file = this.#storage.read();
    if (file.drop !== null) return;
    const { recovered, quickLosses = 0, ...rest } = file;
    const quick = recovered !== undefined && now - recovered.at < POLICY.tugOfWarWithinMs;
    const losses = !quick ? 0 : recovered.byKeeper ? quickLosses + 1 : quickLosses;
    this.#storage.write({ ...rest, drop: { since: now, attempts: 0 }, ...(losses > 0 ? { quickLosses: losses } : {}) });
  }

  /** The session is ready again: the drop is over. `byKeeper`: a reauthentication of the keeper's brought it back. */
  recovered(now: number, byKeeper: boolean): void {
    const file = this.#storage.read();
    if (file.drop !== null) this.#storage.write({ ...file, drop: null, recovered: { at: now, byKeeper } });
  }

  /** True when another login took the session back soon after each of the keeper's last reauthentications. */
  tugOfWar(): boolean {
    return (this.#storage.read().quickLosses ?? 0) >= POLICY.tugOfWarLosses;
  }

  /** When the next reauthentication may go, or why none may. */
  permission(now: number): ReauthPermission {
    const file = this.#storage.read();
    const drop = file.drop ?? { since: now, attempts: 0 };
    if ((file.quickLosses ?? 0) >= POLICY.tugOfWarLosses) {
      return {
        allowed: false,
        why: `another login took the session back soon after each of the last ${file.quickLosses} reauthentications`,
        tugOfWar: true,
      };
    }
    if (drop.attempts >= POLICY.reauthPausesMs.length) {
      return { allowed: false, why: `${drop.attempts} reauthentications did not bring the session back` };
    }
    const recent = file.attempts.filter((t) => t > now - 3_600_000).sort((a, b) => a - b);
    if (recent.length >= POLICY.reauthPerHour) {
      return {
        allowed: false,
        why: `${recent.length} reauthentications in the last hour`,
        untilWall: recent[0]! + 3_600_000,
      };
    }
    const pause = POLICY.reauthPausesMs[drop.attempts]!;
    const jittered = pause * (1 + POLICY.jitter * (2 * this.#random() - 1));
    return { allowed: true, atWall: (drop.lastAt ?? drop.since) + Math.round(jittered) };
  }

  /** A reauthentication failed now: the next pause counts from here. */
  failed(now: number): void {
    const file = this.#storage.read();
    if (file.drop !== null) this.#storage.write({ ...file, drop: { ...file.drop, lastAt: now } });
  }

  /** Records a reauthentication sent now. */
  record(now: number): void {
    const file = this.#storage.read();
    const drop = file.drop ?? { since: now, attempts: 0 };
    this.#storage.write({
      ...file,
      attempts: [...file.attempts.filter((t) => t > now - 3_600_000), now],
      drop: { ...drop, attempts: drop.attempts + 1, lastAt: now },
    });
  }

  /**
   * Attempts so far in the current drop, for display (the keeper's status): 0 when recovery.json
   * cannot be read, since a status must always be given; every step that acts on the budget still
   * meets the error, which names the file.
   */
  attemptsThisDrop(): number {
    try {
      return this.#storage.read().drop?.attempts ?? 0;
    } catch {
      return 0;
    }
  }
}
