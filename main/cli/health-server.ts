/**
 * The health server of `watch --health-port`, on 127.0.0.1 only and read-only: `GET /livez`
 * (200 while the loop is alive), `GET /readyz` (200 when ready, else 503, as ibeam's, so existing
 * bots can use it) and `GET /status` (the state as JSON). A foreign Host header is refused, so a web
 * page cannot read it through DNS rebinding.
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { UserError } from '../session/errors.ts';
import type { Keeper } from '../session/keeper.ts';
import { redactBody } from '../session/redact.ts';

// Not imported as an ES module: that builds node:http's whole export list, whose lazy `WebSocket`
// getter loads Node's bundled undici and compiles its WebAssembly parser (about 20 MB of RSS for
// nothing). https://github.com/nodejs/node/issues/52214
const { createServer } = process.getBuiltinModule('node:http');

/** Connections served at once: more are closed at once, so a flood cannot take the keeper's file descriptors. */
export const MAX_HEALTH_CONNECTIONS = 64;

export class HealthServer {
  readonly #server: http.Server;

  private constructor(keeper: Pick<Keeper, 'status' | 'alive'>) {
    // A connection that does not send its request within 5 s is closed (checked every second).
    const limits = { headersTimeout: 5_000, requestTimeout: 5_000, keepAliveTimeout: 2_000, connectionsCheckingInterval: 1_000 };
    this.#server = createServer(limits, (req, res) => {
      const port = (this.#server.address() as AddressInfo).port;
      const send = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : `${JSON.stringify(body)}\n`);
      };
      if (![`127.0.0.1:${port}`, `localhost:${port}`].includes(req.headers.host ?? '')) return send(403, { error: 'foreign Host header' });
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        return send(405, { error: 'read-only: use GET' });
      }
      const status = keeper.status();
      switch (new URL(req.url ?? '/', 'http://health').pathname) {
        case '/livez':
          return keeper.alive() ? send(200, { alive: true }) : send(503, { alive: false });
        case '/readyz':
          return send(status.state === 'ready' ? 200 : 503, { ready: status.state === 'ready', state: status.state, reason: status.reason });
        case '/status':
          return send(200, redactBody(status));
        default:
          return send(404, { error: 'unknown path: use /livez, /readyz or /status' });
      }
    });
    this.#server.maxConnections = MAX_HEALTH_CONNECTIONS;
    this.#server.setTimeout(10_000, (socket) => socket.destroy());
  }

  static async start(keeper: Pick<Keeper, 'status' | 'alive'>, port: number): Promise<HealthServer> {
    const health = new HealthServer(keeper);
    await new Promise<void>((resolve, reject) => {
      health.#server.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'EADDRINUSE' ? new UserError(`Health port ${port} is already in use: choose another with --health-port.`) : error),
      );
      health.#server.listen(port, '127.0.0.1', resolve);
    });
    return health;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
