/**
 * The gateway simulator: HTTPS on loopback (IPv4 only, as the real gateway) with a fresh
 * certificate shaped like IBKR's, answering the session endpoints as the real gateway does
 * (docs/gateway.md), rate limits and faults included, with a clock that tests can jump. Tests,
 * the demo and the benchmark all use this one simulator.
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { UserError } from '../session/errors.ts';
import { generateCertificate, type SimCertificate } from './certificate.ts';
import { eventSchema, type FaultKind, type Scenario, type SimEvent, type SimEventInput } from './events.ts';
import { loginPage } from './login-page.ts';
import { GatewayModel, SIM_USER, type ModelSettings, type Reply } from './model.ts';
import { SimPush } from './push.ts';
import { RateLimiter } from './rate-limit.ts';
import { routeOf, sendAccessDenied, sendDemoPage, sendRedirect } from './routes.ts';

export interface SimulatorOptions {
  /** Default 127.0.0.1 (the real gateway listens on IPv4 only: `[::1]` is refused). */
  readonly host?: string;
  /** Default 0: any free port. */
  readonly port?: number;
  /** Start with nobody logged in (401 everywhere until the login page is used). */
  readonly loggedOut?: boolean;
  readonly settings?: Partial<ModelSettings>;
  readonly scenario?: Scenario;
  /**
   * A certificate valid now with a subjectAltName for localhost and 127.0.0.1, instead of one
   * shaped like IBKR's (expired since 2019, no subjectAltName), for clients that check those.
   */
  readonly modernCertificate?: boolean;
  /** A certificate of the caller's making (tests of odd certificates: not yet valid, other names). */
  readonly certificate?: SimCertificate;
  /** Start with IBKR unreachable: API requests and the login page are never answered. */
  readonly unreachable?: boolean;
  /** Told of every request once it is answered (or cut off). */
  readonly onRequest?: (record: RequestRecord) => void;
}

/** One request the simulator received. */
export interface RequestRecord {
  readonly seq: number;
  /** Simulated time, ISO 8601. */
  readonly at: string;
  readonly method: string;
  /** The path, `/v1/portal` rewritten to `/v1/api`, without the query. */
  readonly path: string;
  status: number | null;
  /** `unanswered`: held open while IBKR is unreachable, until the client gave up or the simulator stopped. */
  outcome: 'answered' | 'rate-limited' | 'reset' | 'truncated' | 'unanswered';
}

interface Fault {
  readonly kind: FaultKind;
  remaining: number;
  readonly path: string | undefined;
  readonly delayMs: number;
}

interface Outage {
  readonly kind: 'access-denied' | 'restart' | 'no-bridge' | 'unreachable';
  readonly until: number | undefined;
}

const MAX_RECORDS = 20_000;

/** A running simulator. */
export class Simulator {
  readonly model: GatewayModel;
  readonly limiter = new RateLimiter();
  readonly #server: https.Server;
  #certificate: SimCertificate;
  #offsetMs = 0;
  #outage: Outage | undefined;
  #faults: Fault[] = [];
  #records: RequestRecord[] = [];
  #seq = 0;
  #restartAnswers = 0;
  #goneAnswers = 0;
  readonly #modernCertificate: boolean;
  #inFlight = 0;
  /** The most requests the simulator has had under way at once (the keeper sends one at a time). */
  maxInFlight = 0;
  readonly #startedAt: number;
  readonly #scenario: { at: number; event: SimEvent }[];
  #scenarioTimer: NodeJS.Timeout | undefined;
  readonly #slow = new AbortController();
  readonly #onRequest: SimulatorOptions['onRequest'];
  /** The WebSocket `/v1/api/ws` (push.ts). */
  readonly push: SimPush;
  #lastTickleAt: number;

  private constructor(certificate: SimCertificate, options: SimulatorOptions) {
    this.#certificate = certificate;
    this.#modernCertificate = options.modernCertificate ?? false;
    this.#onRequest = options.onRequest;
    if (options.unreachable) this.#outage = { kind: 'unreachable', until: undefined };
    this.model = new GatewayModel(() => this.now(), options.settings);
    if (!options.loggedOut) this.model.login();
    this.#startedAt = this.now();
    this.#lastTickleAt = this.#startedAt;
    this.#scenario = (options.scenario?.events ?? []).map(({ at, ...event }) => ({ at, event: event as SimEvent }));
    this.#server = https.createServer({ key: certificate.key, cert: certificate.cert }, (req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) this.#send(res, 500, '', 'text/plain');
        console.error('simulator: request failed:', error);
      });
    });
    this.push = new SimPush({
      model: this.model,
      now: () => this.now(),
      settle: () => this.#settle(),
      lastTickleAt: () => this.#lastTickleAt,
      refusal: () => (this.#outage?.kind === 'access-denied' ? { status: 404, text: 'Access Denied' } : undefined),
      unreachable: () => this.#outage?.kind === 'unreachable',
    });
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (routeOf(req.url ?? '/').path === '/v1/api/ws') return this.push.upgrade(req, socket, head);
      socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    });
  }

  /** Starts a simulator; rejects with a clear message when the port is taken. */
  static async start(options: SimulatorOptions = {}): Promise<Simulator> {
    const sim = new Simulator(
      options.certificate ?? (await generateCertificate({ modern: options.modernCertificate ?? false })),
      options,
    );
    await new Promise<void>((resolve, reject) => {
      sim.#server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'EADDRINUSE'
            ? new UserError(`Port ${options.port} is already in use: choose another with --port (0 picks a free one).`)
            : error,
        ),
      );
      sim.#server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
    });
    if (sim.#scenario.length > 0) sim.#scenarioTimer = setInterval(() => sim.#runScenario(), 50);
    return sim;
  }

  /** `https://127.0.0.1:PORT`, the gateway's address. */
  get url(): string {
    const { address, port } = this.#server.address() as AddressInfo;
    return `https://${address.includes(':') ? `[${address}]` : address}:${port}`;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** The current certificate's SHA-256 fingerprint. */
  get fingerprint256(): string {
    return this.#certificate.fingerprint256;
  }

  /** The current certificate in PEM. */
  get certificatePem(): string {
    return this.#certificate.cert;
  }

  /** Simulated time (epoch ms): real time plus every `advance`. */
  now(): number {
    return Date.now() + this.#offsetMs;
  }

  /** Moves the simulator's clock ahead (virtual time in tests and the benchmark follows it). */
  advanceClock(ms: number): void {
    this.#offsetMs += ms;
    this.push.pump();
  }

  /** Applies one event (validated first, so a control request's typo is named). */
  async apply(input: SimEventInput | SimEvent): Promise<void> {
    const event = eventSchema.parse(input);
    const now = this.now();
    const until = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : now + ms);
    switch (event.type) {
      case 'login':
        this.model.login();
        break;
      case 'logout':
        this.model.logout();
        break;
      case 'drop':
        this.model.drop();
        break;
      case 'unauthenticate':
        this.model.unauthenticate();
        break;
      case 'compete':
        this.model.compete(
          event.kicked,
          event.takeBackAfter === undefined ? undefined : { afterMs: event.takeBackAfter },
          event.shows,
        );
        break;
      case 'expire-sso':
        this.model.expireSso();
        break;
      case 'access-denied':
        this.#outage = { kind: 'access-denied', until: until(event.duration) };
        break;
      case 'restart':
      case 'no-bridge':
      case 'unreachable':
        this.#outage = { kind: event.type, until: until(event.duration) };
        break;
      case 'fault':
        this.#faults.push({
          kind: event.fault,
          remaining: event.count,
          path: event.path ?? (event.fault === 'sso-invalid' ? '/sso/validate' : undefined),
          delayMs: event.delay,
        });
        break;
      case 'push':
        this.push.act(event.action);
        break;
      case 'recover':
        this.push.recover();
        this.#outage = undefined;
        this.#faults = [];
        this.limiter.clear();
        this.model.endRivalry();
        break;
      case 'rotate-certificate':
        this.#certificate = await generateCertificate({ modern: this.#modernCertificate });
        this.#server.setSecureContext({ key: this.#certificate.key, cert: this.#certificate.cert });
        this.#server.closeAllConnections();
        break;
      case 'advance':
        this.advanceClock(event.by);
        break;
      case 'configure': {
        const s = this.model.settings;
        this.model.settings = {
          ...s,
          idleTimeoutMs: event.idleTimeout ?? s.idleTimeoutMs,
          reauthLatencyMs: event.reauthLatency ?? s.reauthLatencyMs,
          reauthOutcome: event.reauthOutcome ?? s.reauthOutcome,
          maxSessionMs: event.maxSession ?? s.maxSessionMs,
          variant: event.variant ?? s.variant,
        };
        break;
      }
    }
    this.push.pump();
  }

  /** The requests received after `since` (a `seq`), oldest first. */
  requests(since = 0): RequestRecord[] {
    return this.#records.filter((r) => r.seq > since);
  }

  /** How many requests each path received. */
  counts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of this.#records) counts[r.path] = (counts[r.path] ?? 0) + 1;
    return counts;
  }

  clearRequests(): void {
    this.#records = [];
  }

  /** Everything the control interface shows. */
  snapshot(): Record<string, unknown> {
    this.#settle();
    return {
      url: this.url,
      fingerprint256: this.fingerprint256,
      certificate: this.#modernCertificate
        ? 'modern: valid now, for localhost and 127.0.0.1'
        : "shaped like IBKR's: expired, no subjectAltName",
      now: new Date(this.now()).toISOString(),
      clockOffsetMs: this.#offsetMs,
      ...this.model.snapshot(),
      outage: this.#outage
        ? { kind: this.#outage.kind, until: this.#outage.until && new Date(this.#outage.until).toISOString() }
        : null,
      pendingFaults: this.#faults
        .filter((f) => f.remaining > 0)
        .map((f) => ({ fault: f.kind, remaining: f.remaining, path: f.path })),
      rateLimitViolations: this.limiter.violations,
      push: this.push.snapshot(),
      maxInFlight: this.maxInFlight,
      requestsReceived: this.#seq,
    };
  }

  async stop(): Promise<void> {
    clearInterval(this.#scenarioTimer);
    this.#slow.abort();
    await this.push.stop();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #runScenario(): void {
    const elapsed = this.now() - this.#startedAt;
    while (this.#scenario.length > 0 && this.#scenario[0]!.at <= elapsed) {
      const { event } = this.#scenario.shift()!;
      this.apply(event).catch((error: unknown) => console.error('simulator: scenario event failed:', error));
    }
    if (this.#scenario.length === 0) clearInterval(this.#scenarioTimer);
  }

  /** Ends outages whose time is up (a restart leaves the brokerage session dropped), then the model. */
  #settle(): void {
    const o = this.#outage;
    if (o?.until !== undefined && this.now() >= o.until) {
      this.#outage = undefined;
      if (o.kind === 'restart') this.model.drop();
    }
    this.model.settle();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const route = routeOf(req.url ?? '/');
    const path = route.path;
    const record: RequestRecord = {
      seq: ++this.#seq,
      at: new Date(this.now()).toISOString(),
      method: req.method ?? 'GET',
      path,
      status: null,
      outcome: 'answered',
    };
    this.#records.push(record);
    this.#inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.#inFlight);
    res.once('close', () => (this.#inFlight -= 1));
    const onRequest = this.#onRequest;
    if (onRequest) res.once('close', () => onRequest(record));
    if (this.#records.length > MAX_RECORDS) this.#records.splice(0, this.#records.length - MAX_RECORDS);
    const body = await readBody(req);
    this.#settle();
    const reply = (status: number, payload: unknown, type?: string): void => {
      record.status = status;
      this.#send(res, status, payload, type);
    };

    // The gateway's own answers come first (the allow list before anything), then what it proxies.
    if (this.#outage?.kind === 'access-denied') {
      record.status = 404;
      return sendAccessDenied(res);
    }
    if (route.kind === 'redirect') {
      record.status = 302;
      return sendRedirect(req, res, route.location);
    }
    if (route.kind === 'demo') {
      record.status = 200;
      return sendDemoPage(res, new Date(this.#startedAt));
    }
    if (this.#outage?.kind === 'unreachable') {
      // Accepted and never answered; stop() closes the connection if the client does not.
      record.outcome = 'unanswered';
      return;
    }
    if (route.kind === 'sso') return this.#loginPages(req.method ?? 'GET', path, reply);
    const api = path.slice('/v1/api'.length);

    if (this.limiter.admit(req.socket.remoteAddress ?? '?', api, this.now()) !== undefined) {
      record.outcome = 'rate-limited';
      return reply(429, 'Too Many Requests', 'text/plain');
    }
    const fault = this.#takeFault(api);
    if (fault?.kind === 'reset') {
      record.outcome = 'reset';
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'slow') await delay(fault.delayMs, this.#slow.signal);
    if (fault?.kind === 'server-error') return reply(500, '', 'text/plain');
    if (fault?.kind === 'empty') return reply(200, '', 'application/json;charset=utf-8');
    if (fault?.kind === 'malformed') {
      // Cut off inside the body, after the session id (whole, as a real body carries it).
      return reply(
        200,
        `{"session":"${this.model.session || '4a1f9c3e8b7d6a5f4e3d2c1b0a998877'}",` +
          '"iserver":{"authStatus":{"authenticated":tr',
        'application/json;charset=utf-8',
      );
    }
    if (fault?.kind === 'unexpected-shape') return reply(200, { authenticated: 'yes', connected: 1, session: 42 });

    let answer = this.#route(req.method ?? 'GET', api, body, fault?.kind === 'sso-invalid');
    if (fault?.kind === 'leak-session') answer = { ...answer, body: leakSession(answer.body, this.model.session) };
    if (fault?.kind === 'deeply-nested' && answer.body !== null && typeof answer.body === 'object') {
      // The answer, with a value nested 100,000 levels deep (what recursion in a client would not survive).
      const text = JSON.stringify(answer.body).replace(
        /^\{/,
        `{"nested":${'['.repeat(100_000)}${']'.repeat(100_000)},`,
      );
      return reply(answer.status, text);
    }
    if (fault?.kind === 'truncated') {
      record.outcome = 'truncated';
      record.status = answer.status;
      const text = JSON.stringify(answer.body);
      res.writeHead(answer.status, { 'content-type': 'application/json;charset=utf-8' });
      res.write(text.slice(0, Math.max(1, Math.floor(text.length / 2))), () => req.socket.destroy());
      return;
    }
    reply(answer.status, answer.body);
    this.push.pump();
  }

  /** The answer of an API path in the current state (outages, SSO, then the endpoint itself). */
  #route(method: string, api: string, body: string, ssoInvalid: boolean): Reply {
    const outage = this.#outage?.kind;
    if (outage === 'restart') return { status: this.#restartAnswers++ % 2 === 0 ? 503 : 500, body: '' };
    if (outage === 'no-bridge') {
      if (api === '/tickle') return { status: 500, body: { error: 'failed to process request' } };
      if (api.startsWith('/iserver/'))
        return { status: 400, body: { error: 'Bad Request: no bridge', statusCode: 400 } };
    }
    if (this.model.sso === 'none') {
      return api === '/iserver/reauthenticate'
        ? { status: 200, body: { error: 'not logged in' } }
        : { status: 401, body: '' };
    }
    this.model.touch();
    switch (api) {
      case '/tickle':
        this.#lastTickleAt = this.now();
        return this.model.tickle();
      case '/iserver/auth/status':
        return { status: 200, body: this.model.authStatus() };
      case '/iserver/reauthenticate':
        // The gateway's own login competes: a plain reauthenticate takes the session over too.
        return this.model.reauthenticate(true, false);
      case '/iserver/auth/ssodh/init': {
        // After /logout: 410 Gone or 503 (captured 2024); reauthenticate is the fallback.
        if (this.model.sso === 'ended') return { status: this.#goneAnswers++ % 2 === 0 ? 410 : 503, body: '' };
        const parsed = parseJson(body);
        if (method !== 'POST' || parsed === undefined || typeof parsed !== 'object') {
          return {
            status: 400,
            body: { error: 'Bad Request: expected {"publish":true,"compete":<bool>}', statusCode: 400 },
          };
        }
        return this.model.reauthenticate((parsed as { compete?: unknown }).compete === true, true);
      }
      case '/sso/validate':
        return this.model.validate(ssoInvalid);
      case '/logout':
        this.model.logout();
        return { status: 200, body: { status: true } };
      default:
        return api.startsWith('/iserver/') ? this.model.iserver(api) : { status: 404, body: `Unknown path ${api}` };
    }
  }

  /** `/sso/*`, which the real gateway proxies to IBKR: here the login page and its form. */
  #loginPages(method: string, path: string, reply: (status: number, payload: unknown, type?: string) => void): void {
    if (path === '/sso/Login' && method === 'GET')
      return reply(200, loginPage(SIM_USER.userName), 'text/html;charset=utf-8');
    if (path === '/sso/Login' && method === 'POST') {
      this.model.login();
      return reply(200, 'Client login succeeds', 'text/plain');
    }
    return reply(404, `Unknown path ${path}`, 'text/plain');
  }

  #takeFault(api: string): Fault | undefined {
    const fault = this.#faults.find((f) => f.remaining > 0 && (f.path === undefined || api.includes(f.path)));
    if (fault === undefined) return undefined;
    fault.remaining -= 1;
    this.#faults = this.#faults.filter((f) => f.remaining > 0);
    return fault;
  }

  /** Writes an answer in chunks, as the real gateway proxies IBKR's (no Content-Length, even when empty). */
  #send(res: ServerResponse, status: number, payload: unknown, type = 'application/json;charset=utf-8'): void {
    const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
    res.writeHead(
      status,
      res.req.method === 'HEAD' ? { 'content-type': type } : { 'content-type': type, 'transfer-encoding': 'chunked' },
    );
    if (text !== '') res.write(text);
    res.end();
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      if (text.length < 65_536) text += chunk;
    });
    req.on('end', () => resolve(text));
    req.on('error', () => resolve(text));
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * The `leak-session` fault: the session id put where no gateway should put it, in every string of
 * the answer (and the key `fail`, and the error text of an `{"error"}` answer), to prove that the
 * keeper redacts it by value wherever it appears.
 */
function leakSession(body: unknown, session: string): unknown {
  const id = session || '4a1f9c3e8b7d6a5f4e3d2c1b0a998877';
  const leak = (value: unknown, key = ''): unknown => {
    if (typeof value === 'string') return key === 'session' ? value : `${value} ${id}`;
    if (Array.isArray(value)) return value.map((v) => leak(v));
    if (value !== null && typeof value === 'object') {
      const out = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, leak(v, k)]));
      if ('authenticated' in out) out['fail'] = `session ${id} refused`;
      return out;
    }
    return value;
  };
  return typeof body === 'string' ? `${body} ${id}` : leak(body);
}
