/**
 * Classification, pure: what one check saw (a tickle or an auth status, perhaps an SSO validation
 * or a reauthentication answer) becomes one of the session states (docs/design.md), with a reason in words a user
 * understands and the facts seen. No I/O, no clock: the same observations give the same answer.
 */
import type { Observation } from './observation.ts';
import { redactSessionId } from './redact.ts';
import type { AuthStatus, SsoValidate } from './schemas.ts';
import type { SessionState } from './states.ts';

/** The states a check of the gateway can show (the others are the keeper's own). */
export type ObservedState = Exclude<SessionState, 'starting' | 'reauthenticating' | 'paused' | 'keeper-error'>;

/** What was seen of the session, for display. Never holds the session id whole. */
export interface Facts {
  userName?: string;
  userId?: number;
  account?: 'paper' | 'live';
  serverName?: string;
  serverVersion?: string;
  /** Milliseconds left of the login (SSO) session when it was seen. */
  ssoExpiresInMs?: number;
  /** The session id, redacted. */
  session?: string;
  authenticated?: boolean;
  connected?: boolean;
  competing?: boolean;
  /** The gateway's `fail` text, when not empty. */
  fail?: string;
  /** Milliseconds the last request took. */
  latencyMs?: number;
  /** For `rate-limited`: milliseconds until requests may be sent again. */
  retryAfterMs?: number;
  /** For `untrusted-certificate`: the trusted and the presented fingerprints. */
  pinnedFingerprint?: string;
  presentedFingerprint?: string;
}

/** The observations of one check. */
export interface Check {
  readonly tickle?: Observation<'tickle'>;
  readonly authStatus?: Observation<'authStatus'>;
  readonly validate?: Observation<'validate'>;
  readonly reauth?: Observation<'reauthenticate' | 'ssoInit'>;
  /** A failed answer of another call (e.g. `/logout`), classified when nothing else was asked. */
  readonly other?: Observation;
}

export interface Classification {
  readonly state: ObservedState;
  readonly reason: string;
  readonly facts: Facts;
  /** The tickle alone cannot tell (e.g. `{"error":"no session"}`): ask `/iserver/auth/status`. */
  readonly unclear: boolean;
  /**
   * A 401 without an answer of `/sso/validate` in the check: the login may have ended, or only the
   * brokerage session (docs/gateway.md, "401"). Ask `/sso/validate` (paced) before acting on it.
   */
  readonly askValidate?: boolean;
}

/** Classifies one check of the gateway at `origin` (used in messages). */
export function classify(check: Check, origin: string): Classification {
  const { facts, tickleAuth } = collectFacts(check);
  const result = (state: ObservedState, reason: string, unclear = false): Classification => ({
    state,
    reason,
    facts,
    unclear,
  });
  const all = [check.authStatus, check.tickle, check.reauth, check.validate, check.other].filter(
    (o) => o !== undefined,
  );

  const untrusted = all.find((o) => o.kind === 'untrusted-certificate');
  if (untrusted) {
    facts.pinnedFingerprint = untrusted.pinned;
    facts.presentedFingerprint = untrusted.presented;
    return result('untrusted-certificate', `${untrusted.detail} Nothing was sent to it.`);
  }
  const limited = all.find(
    (o) => (o.kind === 'http-error' && o.status === 429) || (o.kind === 'not-sent' && o.reason === 'penalty'),
  );
  if (limited) {
    facts.retryAfterMs = limited.kind === 'not-sent' ? limited.retryAfterMs : 600_000;
    const minutes = Math.ceil(facts.retryAfterMs / 60_000);
    return result(
      'rate-limited',
      `The gateway rate-limited this computer (HTTP 429); the keeper sends nothing for ${minutes} min.`,
    );
  }

  const primary =
    check.authStatus ??
    check.tickle ??
    (check.other?.kind === 'answer' ? undefined : check.other) ??
    nonAnswer(check.reauth);
  const ssoEnded = loginEnded(check);
  if (primary === undefined || primary.kind === 'not-sent') {
    if (ssoEnded) return result('login-required', ssoEnded(origin));
    return result('gateway-down', 'Nothing was asked of the gateway yet.', true);
  }
  if (primary.kind === 'gateway-error' && primary.status === 401) {
    // After a drop, `/iserver/*` answers 401 {"error":"not authenticated"} while the login is valid.
    if (ssoEnded) return result('login-required', ssoEnded(origin));
    if (check.validate?.kind === 'answer' && check.validate.body.RESULT) {
      return result(
        'not-authenticated',
        `The gateway refuses the brokerage session ` +
          `("${primary.error}", HTTP 401), but the login itself is still valid.`,
      );
    }
    return {
      ...result(
        'login-required',
        `The gateway answers "${primary.error}" (HTTP 401): the login may have ended; if so, ` +
          `open ${origin} in a browser and log in.`,
      ),
      askValidate: check.validate === undefined,
    };
  }
  if (primary.kind !== 'answer' && !(primary.kind === 'gateway-error' && primary.error === 'no session')) {
    const trouble = describeTrouble(primary, origin);
    return result(trouble.state, trouble.reason);
  }
  if (primary.kind === 'gateway-error') {
    // `/tickle` answers 200 {"error":"no session"} while connected but not authenticated.
    if (ssoEnded) return result('login-required', ssoEnded(origin));
    return result(
      'not-authenticated',
      'The gateway is connected to IBKR, but the brokerage session is not authenticated.',
      true,
    );
  }
  const auth = primary.endpoint === 'authStatus' ? (primary.body as AuthStatus) : tickleAuth;
  if (auth === undefined) {
    if (ssoEnded) return result('login-required', ssoEnded(origin));
    return result('not-authenticated', "The tickle answer did not include the brokerage session's status.", true);
  }
  const fail = auth.fail !== undefined && auth.fail !== '' ? auth.fail : undefined;
  if (auth.competing) {
    return result(
      'competing',
      `Another login holds the session (TWS, mobile or another gateway)${fail ? `: "${fail}"` : ''}.`,
    );
  }
  if (auth.authenticated && auth.connected && fail === undefined) return result('ready', readyReason(facts));
  if (ssoEnded) return result('login-required', ssoEnded(origin));
  if (fail !== undefined) return result('not-authenticated', `The gateway reports a failed login: "${fail}".`);
  if (auth.connected)
    return result(
      'not-authenticated',
      'The gateway is connected to IBKR, but the brokerage session is not authenticated.',
    );
  if (auth.authenticated)
    return result('not-authenticated', 'The brokerage session is authenticated but has lost its connection to IBKR.');
  // Said only on evidence: a valid /sso/validate, or a tickle that counts the login's time down.
  const loginValid =
    (check.validate?.kind === 'answer' && check.validate.body.RESULT) ||
    (check.tickle?.kind === 'answer' && (check.tickle.body.ssoExpires ?? 0) > 0);
  if (loginValid)
    return result(
      'not-authenticated',
      'The brokerage session has ended (timed out or logged out); the login itself is still valid.',
    );
  const unknown =
    check.validate?.kind === 'not-sent'
      ? ' Whether the login is still valid is not known yet (IBKR allows one check a minute).'
      : '';
  return result('not-authenticated', `The brokerage session has ended (timed out or logged out).${unknown}`);
}

/** The reason of `ready`, with the user when known. */
export function readyReason(facts: Facts): string {
  const who = facts.userName ? ` as ${facts.userName}${facts.account ? ` (${facts.account})` : ''}` : '';
  return `Authenticated and connected to IBKR${who}.`;
}

/** The observation when it is not a good answer (a reauthentication that failed says why). */
function nonAnswer(o: Observation | undefined): Observation | undefined {
  return o?.kind === 'answer' || (o?.kind === 'gateway-error' && /not logged in/i.test(o.error)) ? undefined : o;
}

/**
 * A message maker when the check shows that nobody is logged in (SSO), else undefined: a plain 401
 * (the gateway's answer to every API path when nobody is logged in), or any 401 of `/sso/validate`.
 * A 401 with a JSON error does not show it: after a drop, `/iserver/*` answers 401
 * `{"error":"not authenticated"}` while the login is valid (docs/gateway.md, "401").
 */
function loginEnded(check: Check): ((origin: string) => string) | undefined {
  const all = [check.authStatus, check.tickle, check.reauth, check.validate, check.other];
  const validate401 =
    (check.validate?.kind === 'http-error' || check.validate?.kind === 'gateway-error') &&
    check.validate.status === 401;
  if (validate401 || all.some((o) => o?.kind === 'http-error' && o.status === 401)) {
    return (origin) => `Nobody is logged in to the gateway: open ${origin} in a browser and log in.`;
  }
  if (check.reauth?.kind === 'gateway-error' && /not logged in/i.test(check.reauth.error)) {
    return (origin) => `The gateway says nobody is logged in: open ${origin} in a browser and log in.`;
  }
  if (check.validate?.kind === 'answer' && !check.validate.body.RESULT) {
    return (origin) => `The login (SSO) session has ended: open ${origin} in a browser and log in again.`;
  }
  return undefined;
}

/** State and reason for a failed request. */
function describeTrouble(o: Observation, origin: string): { state: ObservedState; reason: string } {
  const down = (reason: string): { state: ObservedState; reason: string } => ({ state: 'gateway-down', reason });
  switch (o.kind) {
    case 'unreachable':
      if (o.code === 'ECONNREFUSED') {
        // IBKR's gateway listens on IPv4 only (docs/gateway.md, "Address").
        const ipv6 = /^https:\/\/\[/.test(origin)
          ? ` The gateway listens on IPv4 only: use ` +
            `https://127.0.0.1:${new URL(origin).port || 443} or https://localhost:${new URL(origin).port || 443}.`
          : '';
        return down(`The gateway is not running at ${origin} (connection refused).${ipv6}`);
      }
      if (o.answerTimeoutMs !== undefined) {
        return down(
          `The gateway at ${origin} did not answer ` +
            `within ${o.answerTimeoutMs / 1_000} s: it may not reach IBKR (is this computer online?).`,
        );
      }
      if (/TIMEOUT|ETIMEDOUT/.test(o.code))
        return down(`The gateway at ${origin} did not answer in time (${o.message}).`);
      if (o.code === 'ENOTFOUND' || o.code === 'EAI_AGAIN')
        return down(`The gateway's host name in ${origin} was not found.`);
      return down(`The connection to the gateway at ${origin} failed (${o.code}: ${o.message}).`);
    case 'http-error':
      if (o.status >= 300 && o.status < 400) {
        const where = o.location ? ` to ${o.location}` : '';
        return down(
          `The gateway at ${origin} redirected the ` +
            `request${where} (HTTP ${o.status}) instead of answering it: check the address (e.g. ` +
            `https://localhost:5000, without a path) and that it is a Client Portal Gateway. Redirects are ` +
            `never followed.`,
        );
      }
      if (o.status === 401)
        return {
          state: 'login-required',
          reason: `Nobody is logged in to the gateway: open ${origin} in a browser and log in.`,
        };
      if (o.status === 404 && /access denied/i.test(o.text)) {
        return down(
          o.explanation ??
            "The gateway refuses this computer's address (Access Denied): add it to ips.allow in the gateway's " +
              'conf.yaml.',
        );
      }
      if (o.status >= 500)
        return down(`The gateway answers HTTP ${o.status}: IBKR may be restarting (daily reset or maintenance).`);
      return down(
        `The gateway answered HTTP ${o.status}${o.text ? ` ("${o.text}")` : ''}: is ${origin} a Client Portal Gateway?`,
      );
    case 'gateway-error':
      return down(
        `The gateway cannot serve the session right now ("${o.error}", HTTP ${o.status}): IBKR may be restarting.`,
      );
    case 'bad-body':
      return down(
        `The gateway sent ${o.problem} (HTTP ${o.status}) ` +
          `to ${o.endpoint === 'authStatus' ? 'the auth status' : `the ${o.endpoint}`} request.`,
      );
    default:
      return down('The gateway gave no usable answer.');
  }
}

/** The facts of every answer in the check, and the auth status inside a tickle. */
function collectFacts(check: Check): { facts: Facts; tickleAuth: AuthStatus | undefined } {
  const facts: Facts = {};
  let tickleAuth: AuthStatus | undefined;
  const timed = [check.authStatus, check.tickle].find(
    (o) => o !== undefined && o.kind !== 'not-sent' && o.kind !== 'untrusted-certificate',
  );
  if (timed !== undefined) facts.latencyMs = timed.latencyMs;
  if (check.validate?.kind === 'answer' && check.validate.body.RESULT)
    Object.assign(facts, validateFacts(check.validate.body));
  if (check.tickle?.kind === 'answer') {
    const t = check.tickle.body;
    facts.session = redactSessionId(t.session);
    if (t.userId !== undefined) facts.userId ??= t.userId;
    if (t.ssoExpires !== undefined) facts.ssoExpiresInMs = t.ssoExpires;
    tickleAuth = t.iserver?.authStatus;
  }
  const auth = check.authStatus?.kind === 'answer' ? check.authStatus.body : tickleAuth;
  if (auth) {
    facts.authenticated = auth.authenticated;
    facts.connected = auth.connected;
    facts.competing = auth.competing;
    if (auth.fail) facts.fail = auth.fail;
    if (auth.serverInfo?.serverName) facts.serverName = auth.serverInfo.serverName;
    if (auth.serverInfo?.serverVersion) facts.serverVersion = auth.serverInfo.serverVersion;
  }
  return { facts, tickleAuth };
}

/** User facts from a valid `/sso/validate` answer. */
export function validateFacts(v: SsoValidate): Pick<Facts, 'userName' | 'userId' | 'account' | 'ssoExpiresInMs'> {
  const facts: Pick<Facts, 'userName' | 'userId' | 'account' | 'ssoExpiresInMs'> = {};
  if (v.USER_NAME !== undefined) facts.userName = v.USER_NAME;
  if (v.USER_ID !== undefined) facts.userId = v.USER_ID;
  const loginType = v.LOGIN_TYPE ?? v.loginType;
  if (loginType === 1) facts.account = 'live';
  if (loginType === 2) facts.account = 'paper';
  const expires = v.EXPIRES ?? v.expire;
  if (expires !== undefined) facts.ssoExpiresInMs = expires;
  return facts;
}
