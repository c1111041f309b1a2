/**
 * When `watch` prints a line for a reason that changed within a state (the gateway's log said its
 * login failed, the keeper stopped reauthenticating, another cause of gateway-down): a change of
 * state is always printed (as a transition); a new reason in the same state is printed when it
 * differs from the last one printed, at most once a minute, so a reason that flaps at every check
 * cannot flood a log. One held back is printed at a later check if it still differs by then.
 */
import type { KeeperStatus, Transition } from '../session/keeper.ts';

/** At most one reason line this often. */
export const REASON_LINE_GAP_MS = 60_000;

export class ReasonLines {
  readonly #gapMs: number;
  #state: string | undefined;
  #reason: string | undefined;
  #lastLineMono = Number.NEGATIVE_INFINITY;

  constructor(gapMs = REASON_LINE_GAP_MS) {
    this.#gapMs = gapMs;
  }

  /** A change of state was printed (with its reason). */
  printed(t: Pick<Transition, 'state' | 'reason'>): void {
    this.#state = t.state;
    this.#reason = t.reason;
  }

  /**
   * After each step of the keeper: the line to print for a new reason in the same state, as a
   * Transition (`time` now, `previous` the state before this one), or undefined.
   */
  update(status: KeeperStatus, nowWall: number, nowMono: number): Transition | undefined {
    if (status.state !== this.#state || status.reason === this.#reason) return undefined;
    if (nowMono - this.#lastLineMono < this.#gapMs) return undefined;
    this.#lastLineMono = nowMono;
    this.#reason = status.reason;
    return {
      time: new Date(nowWall).toISOString(),
      state: status.state,
      previous: status.previous,
      reason: status.reason,
      facts: status.facts,
      gateway: status.gateway,
    };
  }
}
