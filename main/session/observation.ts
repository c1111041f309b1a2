/**
 * What one request to the gateway produced, in every form the real gateway answers (docs/gateway.md).
 * The client never throws for an answer: it returns one of these, and `classify` reads them.
 */
import type { Endpoint } from './pacing.ts';
import type { AuthStatus, Logout, Reauth, SsoInit, SsoValidate, Tickle } from './schemas.ts';

/** The parsed body of each endpoint's good answer. */
export interface Bodies {
  tickle: Tickle;
  authStatus: AuthStatus;
  reauthenticate: Reauth;
  ssoInit: SsoInit;
  validate: SsoValidate;
  logout: Logout;
}

interface Base<E extends Endpoint> {
  readonly endpoint: E;
  /** Milliseconds from sending to the whole answer (0 when nothing was sent). */
  readonly latencyMs: number;
}

/** A good answer whose body fits the endpoint's schema. */
export interface Answer<E extends Endpoint> extends Base<E> {
  readonly kind: 'answer';
  readonly status: number;
  readonly body: Bodies[E];
}

/** A JSON `{"error": "..."}` answer: "no session", "not logged in", "Bad Request: no bridge"... */
export interface GatewayError<E extends Endpoint> extends Base<E> {
  readonly kind: 'gateway-error';
  readonly status: number;
  readonly error: string;
}

/** A non-2xx status without a JSON error: 401, 404 `Access Denied`, 429, 5xx with empty bodies. */
export interface HttpError<E extends Endpoint> extends Base<E> {
  readonly kind: 'http-error';
  readonly status: number;
  /** The body's text, trimmed and shortened. */
  readonly text: string;
  /** Where a 3xx redirect points (never followed). */
  readonly location?: string;
  /** For a 404 `Access Denied`: why, and what to change (GatewayClientOptions.explainAccessDenied). */
  readonly explanation?: string;
}

/** A 2xx answer that is not JSON, or JSON of an unexpected shape. */
export interface BadBody<E extends Endpoint> extends Base<E> {
  readonly kind: 'bad-body';
  readonly status: number;
  readonly problem: string;
}

/** No answer: refused, reset, cut off mid-body, timed out, name not found. */
export interface Unreachable<E extends Endpoint> extends Base<E> {
  readonly kind: 'unreachable';
  /** `ECONNREFUSED`, `ETIMEDOUT`, `ECONNRESET`, `UND_ERR_SOCKET`... */
  readonly code: string;
  readonly message: string;
  /** Set when the request was sent and no answer came within this many milliseconds. */
  readonly answerTimeoutMs?: number;
}

/** The gateway's certificate is not the trusted one: nothing was sent. */
export interface UntrustedCertificate<E extends Endpoint> extends Base<E> {
  readonly kind: 'untrusted-certificate';
  readonly pinned: string | undefined;
  readonly presented: string | undefined;
  readonly detail: string;
}

/** The pacer kept the request back so as not to break a rate limit: nothing was sent. */
export interface NotSent<E extends Endpoint> extends Base<E> {
  readonly kind: 'not-sent';
  readonly reason: 'penalty' | 'too-soon';
  readonly retryAfterMs: number;
}

export type Observation<E extends Endpoint = Endpoint> =
  | Answer<E>
  | GatewayError<E>
  | HttpError<E>
  | BadBody<E>
  | Unreachable<E>
  | UntrustedCertificate<E>
  | NotSent<E>;
