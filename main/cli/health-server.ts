/**
 * The health server of `watch --health-port`, on 127.0.0.1 only and read-only: `GET /livez`
 * (200 while the loop is alive), `GET /readyz` (200 when ready, else 503, as ibeam's, so existing
 * bots can use it), `GET /status` (the state as JSON) and `GET /events` (Server-Sent Events: every
 * change of state as it happens, the same JSON as `watch --json`, for at most MAX_EVENT_LISTENERS
 * listeners at once). A foreign Host header is refused, so a web page cannot read it through DNS
 * rebinding.
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { UserError } from '../session/errors.ts';
import type { Keeper, Transition } from '../session/keeper.ts';
import { redactBody } from '../session/redact.ts';

// Not imported as an ES module: that builds node:http's whole export list, whose lazy `WebSocket`
// getter loads Node's bundled undici and compiles its WebAssembly parser (about 20 MB of RSS for
// nothing). https://github.com/nodejs/node/issues/52214
const { createServer } = process.getBuiltinModule('node:http');

/** Connections served at once: more are closed at once, so a flood cannot take the keeper's file descriptors. */
export const MAX_HEALTH_CONNECTIONS = 64;
/** `/events` listeners at once: more are answered 503. */
export const MAX_EVENT_LISTENERS = 16;
/** A listener that lets this much pile up unread is dropped (it reads too slowly or not at all). */
const MAX_UNREAD_BYTES = 65_536;
/** A comment line this often keeps proxies and idle timers from closing a quiet stream. */
const EVENTS_PING_MS = 15_000;

/** What the health server needs of the keeper (a Keeper or a LeasedKeeper). */
export type HealthSource = Pick<Keeper, 'status' | 'alive'> & {
  on(event: 'transition', listener: (t: Transition) => void): unknown;
  off(event: 'transition', listener: (t: Transition) => void): unknown;
};

/** The JSON of one change of state, as `watch --json` prints it (the session id redacted). */
export function transitionJson(t: Transition, gateway: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify(redactBody({ ...t, gateway, ...extra }));
}

export class HealthServer {
  readonly #server: http.Server;
  readonly #listeners = new Set<http.ServerResponse>();
  readonly #source: HealthSource;
  readonly #onTransition: (t: Transition) => void;
  #ping: NodeJS.Timeout | undefined;
  #eventId = 0;

  private constructor(
    keeper: HealthSource,
    toJson?: (t: Transition) => string,
    statusExtra?: () => Record<string, unknown>,
  ) {
    this.#source = keeper;
    const json = toJson ?? ((t: Transition) => transitionJson(t, keeper.status().gateway));
    this.#onTransition = (t) => this.#broadcast(`id: ${++this.#eventId}\ndata: ${json(t)}\n\n`);
    // A connection that does not send its request within 5 s is closed (checked every second).
    const limits = {
      headersTimeout: 5_000,
      requestTimeout: 5_000,
      keepAliveTimeout: 2_000,
      connectionsCheckingInterval: 1_000,
    };
    this.#server = createServer(limits, (req, res) => {
      const port = (this.#server.address() as AddressInfo).port;
      const send = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : `${JSON.stringify(body)}\n`);
      };
      if (![`127.0.0.1:${port}`, `localhost:${port}`].includes(req.headers.host ?? ''))
        return send(403, { error: 'foreign Host header' });
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        return send(405, { error: 'read-only: use GET' });
      }
      const status = keeper.status();
      switch (new URL(req.url ?? '/', 'http://health').pathname) {
        case '/livez':
          return keeper.alive() ? send(200, { alive: true }) : send(503, { alive: false });
        case '/readyz':
          return send(status.state === 'ready' ? 200 : 503, {
            ready: status.state === 'ready',
            state: status.state,
            reason: status.reason,
          });
        case '/status':
          return send(200, redactBody({ ...status, ...statusExtra?.() }));
        case '/events':
          return this.#subscribe(req, res, send);
        default:
          return send(404, { error: 'unknown path: use /livez, /readyz, /status or /events' });
      }
    });
    this.#server.maxConnections = MAX_HEALTH_CONNECTIONS;
    this.#server.setTimeout(10_000, (socket) => socket.destroy());
  }

  /**
   * `toJson`: the JSON of a change of state (default: `transitionJson` with the keeper's gateway);
   * `statusExtra`: more fields for `/status` (`gatewayProcess` with `--run-gateway`).
   */
  static async start(
    keeper: HealthSource,
    port: number,
    toJson?: (t: Transition) => string,
    statusExtra?: () => Record<string, unknown>,
  ): Promise<HealthServer> {
    const health = new HealthServer(keeper, toJson, statusExtra);
    await new Promise<void>((resolve, reject) => {
      health.#server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'EADDRINUSE'
            ? new UserError(`Health port ${port} is already in use: choose another with --health-port.`)
            : error,
        ),
      );
      health.#server.listen(port, '127.0.0.1', resolve);
    });
    keeper.on('transition', health.#onTransition);
    return health;
  }

  /** `/events` listeners connected now. */
  get listeners(): number {
    return this.#listeners.size;
  }

  #subscribe(req: http.IncomingMessage, res: http.ServerResponse, send: (status: number, body: unknown) => void): void {
    if (this.#listeners.size >= MAX_EVENT_LISTENERS) {
      return send(503, { error: `already ${MAX_EVENT_LISTENERS} listeners of /events: close one, or poll /status` });
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    if (req.method === 'HEAD') return void res.end();
    // Held open: neither the idle timeout of the health server nor its request timeout applies.
    req.socket.setTimeout(0);
    res.write(`retry: 5000\n: changes of state of ${this.#source.status().gateway}, as watch --json prints them\n\n`);
    this.#listeners.add(res);
    res.once('close', () => {
      this.#listeners.delete(res);
      if (this.#listeners.size === 0) clearInterval(this.#ping);
    });
    if (this.#listeners.size === 1) {
      this.#ping = setInterval(() => this.#broadcast(': ping\n\n'), EVENTS_PING_MS);
      this.#ping.unref();
    }
  }

  #broadcast(text: string): void {
    for (const res of this.#listeners) {
      if (res.writableLength > MAX_UNREAD_BYTES) {
        res.destroy();
        continue;
      }
      res.write(text);
    }
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.#source.off('transition', this.#onTransition);
    clearInterval(this.#ping);
    for (const res of this.#listeners) res.end();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
