/**
 * The simulator's control interface: plain HTTP on loopback, apart from the gateway's port so the
 * gateway's paths stay as the real one's. `GET /state`, `POST /events` (one event or an array),
 * `GET /requests[?since=SEQ]`, `DELETE /requests`. Requests with a foreign Host header are refused.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as z from '../session/zod.ts';
import { UserError } from '../session/errors.ts';
import { describeIssue, eventSchema } from './events.ts';
import type { Simulator } from './server.ts';

const manySchema = z.array(eventSchema);

export class ControlServer {
  readonly #server: http.Server;
  readonly #sim: Simulator;

  private constructor(sim: Simulator) {
    this.#sim = sim;
    this.#server = http.createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => answer(res, 500, { error: (error as Error).message }));
    });
  }

  static async start(sim: Simulator, port = 0, host = '127.0.0.1'): Promise<ControlServer> {
    const control = new ControlServer(sim);
    await new Promise<void>((resolve, reject) => {
      control.#server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'EADDRINUSE'
            ? new UserError(
                `Control port ${port} is already in use: choose another with --control-port (0 picks a free one).`,
              )
            : error,
        ),
      );
      control.#server.listen(port, host, resolve);
    });
    return control;
  }

  get url(): string {
    const { address, port } = this.#server.address() as AddressInfo;
    return `http://${address}:${port}`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const port = (this.#server.address() as AddressInfo).port;
    if (![`127.0.0.1:${port}`, `localhost:${port}`].includes(req.headers.host ?? '')) {
      return answer(res, 403, { error: 'Foreign Host header: the control interface answers only on 127.0.0.1.' });
    }
    const url = new URL(req.url ?? '/', 'http://control');
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /state' || route === 'GET /') return answer(res, 200, this.#sim.snapshot());
    if (route === 'GET /requests') {
      const since = Number(url.searchParams.get('since') ?? 0);
      return answer(res, 200, {
        requests: this.#sim.requests(Number.isFinite(since) ? since : 0),
        counts: this.#sim.counts(),
      });
    }
    if (route === 'DELETE /requests') {
      this.#sim.clearRequests();
      return answer(res, 200, { cleared: true });
    }
    if (route === 'POST /events') {
      let json: unknown;
      try {
        json = JSON.parse(await readAll(req));
      } catch {
        return answer(res, 400, { error: 'The body is not JSON: send an event such as {"type":"drop"}.' });
      }
      const parsed = Array.isArray(json) ? manySchema.safeParse(json) : eventSchema.safeParse(json);
      if (!parsed.success) return answer(res, 400, { error: `Not an event: ${describeIssue(parsed.error)}.` });
      for (const event of Array.isArray(parsed.data) ? parsed.data : [parsed.data]) await this.#sim.apply(event);
      return answer(res, 200, this.#sim.snapshot());
    }
    return answer(res, 404, { error: `No ${route}: use GET /state, POST /events, GET or DELETE /requests.` });
  }
}

function answer(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body, null, 2)}\n`);
}

function readAll(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}
