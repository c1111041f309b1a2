/**
 * The gateway client: typed calls for the session endpoints, each with a timeout, a schema-checked
 * body, the pinned certificate and the pacer; never two requests in flight at once. It never
 * throws for what the gateway does: every outcome is an Observation.
 */
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type * as z from './zod.ts';
import { UserError } from './errors.ts';
import { quoteInput, redactBody, redactText, rememberSecret } from './redact.ts';
import type { Observation } from './observation.ts';
import { Pacer, type Endpoint, type LedgerStorage } from './pacing.ts';
import {
  authStatusSchema,
  gatewayErrorSchema,
  logoutSchema,
  reauthSchema,
  ssoInitSchema,
  ssoValidateSchema,
  tickleSchema,
} from './schemas.ts';
import {
  IBKR_STOCK_CERTIFICATE,
  isCertificateError,
  isLoopbackHost,
  PinMismatchError,
  PinnedAgent,
  probeCertificate,
} from './tls.ts';
import { exchange, ExchangeError, type Exchange } from './transport.ts';
import type { TrustStore } from './trust-store.ts';

/** The gateway's default address. */
export const DEFAULT_GATEWAY = 'https://localhost:5000';

const ENDPOINTS: Record<Endpoint, { method: 'GET' | 'POST'; path: string; schema: z.ZodMiniType }> = {
  tickle: { method: 'POST', path: '/tickle', schema: tickleSchema },
  authStatus: { method: 'POST', path: '/iserver/auth/status', schema: authStatusSchema },
  reauthenticate: { method: 'POST', path: '/iserver/reauthenticate', schema: reauthSchema },
  ssoInit: { method: 'POST', path: '/iserver/auth/ssodh/init', schema: ssoInitSchema },
  validate: { method: 'GET', path: '/sso/validate', schema: ssoValidateSchema },
  logout: { method: 'POST', path: '/logout', schema: logoutSchema },
};

/** A gateway address split into what the client needs. */
export interface GatewayAddress {
  /** `https://host:port`, the key of the trust store and the pacing ledger. */
  readonly origin: string;
  /** `https://host:port/v1/api`. */
  readonly apiBase: string;
  readonly hostname: string;
  readonly port: number;
  readonly loopback: boolean;
  /**
   * What IBKR's limits and the one-keeper lease are counted by: the gateway itself, so
   * `https://localhost:5000` and `https://127.0.0.1:5000` (one gateway, one client address) share
   * one ledger and one lease; `https://loopback:PORT` for every loopback name, else the origin.
   */
  readonly ledgerKey: string;
}

/**
 * Parses a gateway URL as a person types it (`https://localhost:5000`, with or without
 * `/v1/api` or the older `/v1/portal`), or throws a UserError that says what is wrong.
 */
export function parseGatewayUrl(input: string): GatewayAddress {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new UserError(`${quoteInput(input)} is not a URL: give the gateway's address, e.g. ${DEFAULT_GATEWAY}.`);
  }
  if (url.protocol !== 'https:') {
    throw new UserError(
      `${quoteInput(input)} does not use https: the Client Portal Gateway only speaks HTTPS, e.g. ${DEFAULT_GATEWAY}.`,
    );
  }
  const rest = url.pathname.replace(/\/+$/, '');
  if (rest !== '' && rest !== '/v1/api' && rest !== '/v1/portal') {
    throw new UserError(
      `${quoteInput(input)} has the path ${quoteInput(url.pathname)}: give only the gateway's address, ` +
        `e.g. ${DEFAULT_GATEWAY}.`,
    );
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new UserError(
      `${quoteInput(input)} carries credentials, a query or a fragment: give only the gateway's address, ` +
        `e.g. ${DEFAULT_GATEWAY}.`,
    );
  }
  const port = Number(url.port === '' ? 443 : url.port);
  const loopback = isLoopbackHost(url.hostname);
  return {
    origin: url.origin,
    apiBase: `${url.origin}/v1/api`,
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    port,
    loopback,
    ledgerKey: loopback ? `https://loopback:${port}` : url.origin,
  };
}

/** What the client is given. */
export interface GatewayClientOptions {
  readonly gateway: string;
  readonly trust: TrustStore;
  readonly pacing: LedgerStorage;
  /** Per request, from sending to the whole answer. Default 10 s. */
  readonly timeoutMs?: number;
  /** Wall clock (epoch ms) for the pacing ledger. */
  readonly now?: () => number;
  /** How the pacer's short waits are spent (virtual time passes them at once). */
  readonly sleep?: (ms: number) => Promise<unknown>;
  /** Told when a loopback gateway's certificate is trusted on first use. */
  readonly onFirstUseTrust?: (event: { origin: string; fingerprint256: string; subject: string }) => void;
  /**
   * Gives the reason of a 404 `Access Denied` (e.g. from the gateway's conf.yaml, see
   * main/gateway/access-denied.ts); it goes into the observation's `explanation`.
   */
  readonly explainAccessDenied?: (address: GatewayAddress) => string | Promise<string>;
}

/** The client of one gateway. */
export class GatewayClient {
  readonly address: GatewayAddress;
  readonly #trust: TrustStore;
  readonly #pacer: Pacer;
  readonly #timeoutMs: number;
  readonly #onFirstUseTrust: GatewayClientOptions['onFirstUseTrust'];
  readonly #sleep: (ms: number) => Promise<unknown>;
  readonly #explainAccessDenied: GatewayClientOptions['explainAccessDenied'];
  #agent: https.Agent | undefined;
  #agentKey = '';
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: GatewayClientOptions) {
    this.address = parseGatewayUrl(options.gateway);
    this.#trust = options.trust;
    this.#pacer = new Pacer(options.pacing, this.address.ledgerKey, options.now);
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#onFirstUseTrust = options.onFirstUseTrust;
    this.#sleep = options.sleep ?? sleep;
    this.#explainAccessDenied = options.explainAccessDenied;
  }

  /** The fingerprint trusted for this gateway now, if any (read from the trust store). */
  trustedFingerprint(): string | undefined {
    return this.#trust.get(this.address.origin)?.fingerprint256;
  }

  /** The pacer, so callers can tell when a penalty ends. */
  get pacer(): Pacer {
    return this.#pacer;
  }

  tickle(): Promise<Observation<'tickle'>> {
    return this.call('tickle');
  }
  authStatus(): Promise<Observation<'authStatus'>> {
    return this.call('authStatus');
  }
  reauthenticate(): Promise<Observation<'reauthenticate'>> {
    return this.call('reauthenticate');
  }
  /** `POST /iserver/auth/ssodh/init`; `compete: true` takes the session over from another login. */
  ssoInit(compete: boolean): Promise<Observation<'ssoInit'>> {
    return this.call('ssoInit', { publish: true, compete });
  }
  validate(): Promise<Observation<'validate'>> {
    return this.call('validate');
  }
  /** `POST /logout`; a login remembered from `/sso/validate` is forgotten, since it no longer holds. */
  async logout(): Promise<Observation<'logout'>> {
    const answer = await this.call('logout');
    if (answer.kind === 'answer') this.#pacer.forgetSso();
    return answer;
  }

  /** One request, queued behind any other in flight. */
  call<E extends Endpoint>(endpoint: E, body?: unknown): Promise<Observation<E>> {
    const run = this.#queue.then(() => this.#send(endpoint, body)).then((o) => this.#explain(o));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** An `Access Denied` answer with the reason `explainAccessDenied` gives, when there is one. */
  async #explain<E extends Endpoint>(o: Observation<E>): Promise<Observation<E>> {
    if (
      this.#explainAccessDenied === undefined ||
      o.kind !== 'http-error' ||
      o.status !== 404 ||
      !/access denied/i.test(o.text)
    )
      return o;
    try {
      return { ...o, explanation: await this.#explainAccessDenied(this.address) };
    } catch {
      return o;
    }
  }

  /** Closes the connections. */
  async close(): Promise<void> {
    await this.#queue;
    this.#agent?.destroy();
    this.#agent = undefined;
  }

  async #send<E extends Endpoint>(endpoint: E, body: unknown): Promise<Observation<E>> {
    const { method, path, schema } = ENDPOINTS[endpoint];
    for (let attempt = 1; ; attempt += 1) {
      const held = await this.#pace(endpoint);
      if (held !== undefined) return held;
      const agent = await this.#prepareAgent(endpoint);
      if (!(agent instanceof https.Agent)) return agent as Observation<E>;
      // lease: decided and recorded in one step under the ledger's lock (another process may have sent meanwhile).
      const sentAt = await this.#claim(endpoint);
      if (typeof sentAt !== 'number') return sentAt;
      const started = performance.now();
      const latency = (): number => Math.round(performance.now() - started);
      let response: Exchange;
      try {
        response = await exchange(`${this.address.apiBase}${path}`, {
          method,
          agent,
          timeoutMs: this.#timeoutMs,
          headers: {
            accept: 'application/json',
            'user-agent': 'ibkr-session-keeper',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (error) {
        if (isCertificateError(error)) return this.#untrusted(endpoint, error);
        // A kept-alive connection the gateway closed just as this request went out: once more, anew.
        if (attempt === 1 && error instanceof ExchangeError && error.phase === 'request' && isStaleConnection(error))
          continue;
        return { kind: 'unreachable', endpoint, latencyMs: latency(), ...describeFailure(error, this.#timeoutMs) };
      } finally {
        this.#pacer.recordDone(endpoint, sentAt);
      }
      if (response.status === 429) this.#pacer.recordRateLimited();
      return interpret(endpoint, response, schema, latency());
    }
  }

  /** Waits as the pacer says; the observation when it refuses to send at all. */
  async #pace<E extends Endpoint>(endpoint: E): Promise<Observation<E> | undefined> {
    for (;;) {
      const decision = this.#pacer.decide(endpoint);
      if (decision.action === 'send') return undefined;
      if (decision.action === 'refuse') {
        return {
          kind: 'not-sent',
          endpoint,
          latencyMs: 0,
          reason: decision.reason,
          retryAfterMs: decision.retryAfterMs,
        };
      }
      await this.#sleep(decision.ms);
    }
  }

  /** lease: the pacer's slot for this request, waiting as it says; the observation when it refuses. */
  async #claim<E extends Endpoint>(endpoint: E): Promise<number | Observation<E>> {
    for (;;) {
      const sentAt = this.#pacer.claim(endpoint);
      if (sentAt !== undefined) return sentAt;
      const held = await this.#pace(endpoint);
      if (held !== undefined) return held;
    }
  }

  /** The agent for the trusted certificate, or the observation that says why there is none. */
  async #prepareAgent<E extends Endpoint>(endpoint: E): Promise<https.Agent | Observation<E>> {
    const { origin, hostname, port, loopback } = this.address;
    let pin = this.#trust.get(origin);
    if (pin === undefined || pin.pem === undefined) {
      if (pin === undefined && !loopback) return this.#agentFor('system');
      let seen;
      try {
        seen = await probeCertificate(hostname, port, this.#timeoutMs);
      } catch (error) {
        return { kind: 'unreachable', endpoint, latencyMs: 0, ...describeFailure(error, this.#timeoutMs) };
      }
      const firstUse = pin === undefined;
      if (pin !== undefined && seen.fingerprint256 !== pin.fingerprint256) {
        return this.#mismatch(endpoint, pin.fingerprint256, seen.fingerprint256);
      }
      pin = this.#trust.record(origin, {
        fingerprint256: seen.fingerprint256,
        pem: seen.pem,
        source: pin?.source ?? 'first-use',
      });
      if (firstUse) this.#onFirstUseTrust?.({ origin, fingerprint256: seen.fingerprint256, subject: seen.subject });
    }
    return this.#agentFor(pin.fingerprint256);
  }

  /**
   * One kept-alive connection per gateway: accepted by the pinned fingerprint alone, or (a remote
   * gateway with nothing pinned, key `system`) by the system's certificate authorities.
   */
  #agentFor(key: string): https.Agent {
    if (this.#agent !== undefined && this.#agentKey === key) return this.#agent;
    this.#agent?.destroy();
    this.#agentKey = key;
    const options = { keepAlive: true, maxSockets: 1, timeout: this.#timeoutMs };
    this.#agent =
      key === 'system' ? new https.Agent(options) : new PinnedAgent(key, { ...options, timeoutMs: this.#timeoutMs });
    return this.#agent;
  }

  async #untrusted<E extends Endpoint>(endpoint: E, error: unknown): Promise<Observation<E>> {
    const pinned = this.#trust.get(this.address.origin)?.fingerprint256;
    let presented = findCause(error, PinMismatchError)?.presented;
    if (presented === undefined) {
      try {
        presented = (await probeCertificate(this.address.hostname, this.address.port, this.#timeoutMs)).fingerprint256;
      } catch {
        presented = undefined;
      }
    }
    if (pinned !== undefined && presented !== undefined && presented !== pinned)
      return this.#mismatch(endpoint, pinned, presented);
    const detail =
      pinned === undefined
        ? `The gateway at ${this.address.origin} presents a certificate this computer does not trust ` +
          `(${errorCode(error)})${presented ? `, fingerprint ${presented}` : ''}.`
        : `The gateway's pinned certificate was refused (${errorCode(error)}).`;
    return { kind: 'untrusted-certificate', endpoint, latencyMs: 0, pinned, presented, detail };
  }

  #mismatch<E extends Endpoint>(endpoint: E, pinned: string, presented: string): Observation<E> {
    this.#agent?.destroy();
    this.#agent = undefined;
    return {
      kind: 'untrusted-certificate',
      endpoint,
      latencyMs: 0,
      pinned,
      presented,
      detail:
        presented === IBKR_STOCK_CERTIFICATE
          ? `The gateway at ${this.address.origin} presents IBKR's stock certificate ` +
            `(${presented}), not its own one pinned here ` +
            `(${pinned}): if you just gave it its own (ibkr-keeper gateway certificate), restart the gateway; ` +
            `do not trust the stock one again.`
          : `The gateway at ${this.address.origin} now presents certificate ${presented}, not the trusted ${pinned}.`,
    };
  }
}

/** Turns a status and body text into an observation. */
function interpret<E extends Endpoint>(
  endpoint: E,
  { status, text, location }: Exchange,
  schema: z.ZodMiniType,
  latencyMs: number,
): Observation<E> {
  let json: unknown;
  let isJson = false;
  try {
    json = JSON.parse(text);
    isJson = true;
  } catch {
    json = undefined;
  }
  // The session id is a secret wherever the gateway puts it: remembered from the tickle, then every
  // string of the answer is redacted by value (the tickle's own `session` is kept for the keeper).
  const session = (json as { session?: unknown } | null)?.session;
  if (endpoint === 'tickle' && typeof session === 'string') rememberSecret(session);
  const gatewayError = isJson ? gatewayErrorSchema.safeParse(json) : undefined;
  if (gatewayError?.success)
    return { kind: 'gateway-error', endpoint, latencyMs, status, error: shorten(gatewayError.data.error) };
  if (status < 200 || status > 299) {
    return {
      kind: 'http-error',
      endpoint,
      latencyMs,
      status,
      text: shorten(text),
      ...(location === undefined ? {} : { location: shorten(location) }),
    };
  }
  if (!isJson) {
    const problem = text.trim() === '' ? 'an empty answer' : `an answer that is not JSON: "${shorten(text)}"`;
    return { kind: 'bad-body', endpoint, latencyMs, status, problem };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at "${issue.path.join('.')}"` : '';
    return {
      kind: 'bad-body',
      endpoint,
      latencyMs,
      status,
      problem: `an answer of an unexpected shape${where}: ${issue?.message}`,
    };
  }
  const body = redactBody(parsed.data) as Record<string, unknown>;
  if (endpoint === 'tickle' && typeof session === 'string') body['session'] = session;
  return { kind: 'answer', endpoint, latencyMs, status, body } as Observation<E>;
}

/** An excerpt of what the gateway sent, for a reason: one line, redacted, cut short. */
function shorten(text: string): string {
  const flat = redactText(text.slice(0, 400)).replace(/\s+/g, ' ').trim();
  return flat.length > 80 ? `${flat.slice(0, 79)}…` : flat;
}

/** A connection closed or reset before any answer: what a kept-alive socket closed by the server gives. */
function isStaleConnection(error: unknown): boolean {
  return ['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE'].includes(errorCode(error));
}

/** The error, or one of its causes, of this class. */
function findCause<T>(error: unknown, type: new (...args: never[]) => T): T | undefined {
  for (let e: unknown = error; e !== null && typeof e === 'object'; e = (e as { cause?: unknown }).cause)
    if (e instanceof type) return e;
  return undefined;
}

function errorCode(error: unknown): string {
  for (let e: unknown = error; e !== null && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return 'ERROR';
}

/** A short code and message for a failed request. */
function describeFailure(
  error: unknown,
  timeoutMs: number,
): { code: string; message: string; answerTimeoutMs?: number } {
  const name = (error as { name?: string } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return { code: 'ETIMEDOUT', message: `no answer within ${timeoutMs / 1000} s`, answerTimeoutMs: timeoutMs };
  }
  const code = errorCode(error);
  const cause = (error as { cause?: { message?: string } } | null)?.cause?.message;
  return { code, message: cause ?? (error as Error | null)?.message ?? String(error) };
}
