/**
 * IBKR's rate limits as the gateway applies them (docs/gateway.md): `/tickle` 1/s, `/sso/validate`
 * 1/min, 10 requests/s in total; the excess gets 429 and puts the IP in a penalty box for
 * 10 minutes, in which every request gets 429.
 */
export const GATEWAY_LIMITS = {
  tickleGapMs: 1_000,
  validateGapMs: 60_000,
  perSecond: 10,
  penaltyMs: 600_000,
} as const;

interface ClientRecord {
  recent: number[];
  lastTickle?: number;
  lastValidate?: number;
  penaltyUntil?: number;
}

/** Why a request was refused, or undefined when it may pass. */
export type Refusal = 'penalty' | 'tickle' | 'validate' | 'global' | undefined;

/** The limiter of one simulated gateway, keyed by client IP. */
export class RateLimiter {
  readonly #clients = new Map<string, ClientRecord>();
  /** Every violation seen (not counting requests refused inside a penalty). */
  violations = 0;

  /** Checks and records one API request at `now`. */
  admit(ip: string, path: string, now: number): Refusal {
    const client = this.#clients.get(ip) ?? { recent: [] };
    this.#clients.set(ip, client);
    if (client.penaltyUntil !== undefined && now < client.penaltyUntil) return 'penalty';
    client.recent = client.recent.filter((t) => t > now - 1_000);
    let refusal: Refusal;
    if (client.recent.length >= GATEWAY_LIMITS.perSecond) refusal = 'global';
    else if (
      path === '/tickle' &&
      client.lastTickle !== undefined &&
      now - client.lastTickle < GATEWAY_LIMITS.tickleGapMs
    )
      refusal = 'tickle';
    else if (
      path === '/sso/validate' &&
      client.lastValidate !== undefined &&
      now - client.lastValidate < GATEWAY_LIMITS.validateGapMs
    )
      refusal = 'validate';
    if (refusal !== undefined) {
      this.violations += 1;
      client.penaltyUntil = now + GATEWAY_LIMITS.penaltyMs;
      return refusal;
    }
    client.recent.push(now);
    if (path === '/tickle') client.lastTickle = now;
    if (path === '/sso/validate') client.lastValidate = now;
    return undefined;
  }

  /** Forgets every client (the control interface's `recover`). */
  clear(): void {
    this.#clients.clear();
  }
}
