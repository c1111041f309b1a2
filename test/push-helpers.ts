/** A bare WebSocket client of the simulator's `/v1/api/ws`, over the pinned certificate, for tests. */
import type { TestContext } from 'node:test';
import WebSocket from 'ws';
import { PinnedAgent } from '../main/session/tls.ts';
import type { Simulator } from '../main/simulator/server.ts';

export interface SocketProbe {
  readonly ws: WebSocket;
  /** Every frame received, parsed when JSON, else the text. */
  readonly frames: unknown[];
  /** Resolves with the first frame (received or to come) that `match` accepts. */
  next(match: (frame: any) => boolean): Promise<any>;
  /** Resolves with the close code. */
  readonly closed: Promise<number>;
  /** Resolves when open; rejects with the error when the upgrade fails. */
  readonly opened: Promise<void>;
}

export function openSocket(t: TestContext, sim: Simulator, session?: string): SocketProbe {
  const agent = new PinnedAgent(sim.fingerprint256, { timeoutMs: 2_000 });
  const headers: Record<string, string> = session === undefined ? {} : { cookie: `api=${JSON.stringify({ session })}` };
  const ws = new WebSocket(`${sim.url.replace('https:', 'wss:')}/v1/api/ws`, { agent, headers });
  const frames: unknown[] = [];
  const waiters: Array<{ match: (frame: any) => boolean; resolve: (frame: any) => void }> = [];
  ws.on('message', (data) => {
    const text = data.toString('utf8');
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      frame = text;
    }
    frames.push(frame);
    for (const w of [...waiters]) {
      if (!w.match(frame)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(frame);
    }
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  opened.catch(() => undefined);
  t.after(() => {
    ws.terminate();
    agent.destroy();
  });
  return {
    ws,
    frames,
    closed,
    opened,
    next: (match) => {
      const seen = frames.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}
