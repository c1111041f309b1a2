/**
 * The WebSocket `/v1/api/ws` of the real gateway beside the simulator's, where it can be seen here
 * (IBKR unreachable, nobody logged in): the upgrade is answered 101, then nothing comes.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test, type TestContext } from 'node:test';
import WebSocket from 'ws';
import { PinnedAgent } from '../../main/session/tls.ts';
import { copyGateway, freePort, startGateway, STOCK_FINGERPRINT } from '../real-gateway.ts';
import { startSim } from '../helpers.ts';

/** Opens the socket (cookie given), sends a session text frame and a tic, and reports what happened within 2 s. */
async function visit(
  t: TestContext,
  port: number,
  fingerprint256: string,
): Promise<{ status: number | undefined; frames: string[]; closed: boolean }> {
  const agent = new PinnedAgent(fingerprint256, { timeoutMs: 5_000 });
  const ws = new WebSocket(`wss://127.0.0.1:${port}/v1/api/ws`, {
    agent,
    headers: { cookie: 'api={"session":"0123456789abcdef0123456789abcdef"}' },
  });
  t.after(() => {
    ws.terminate();
    agent.destroy();
  });
  const seen = { status: undefined as number | undefined, frames: [] as string[], closed: false };
  ws.on('upgrade', (res) => (seen.status = res.statusCode));
  ws.on('message', (data) => seen.frames.push(String(data)));
  ws.on('close', () => (seen.closed = true));
  ws.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send('{"session":"0123456789abcdef0123456789abcdef"}');
  ws.send('tic');
  await sleep(2_000);
  return seen;
}

describe('the WebSocket beside the real gateway', () => {
  test('IBKR unreachable: the upgrade answers 101 and nothing follows, on both', async (t) => {
    const port = await freePort();
    const [gw, sim] = await Promise.all([startGateway(t, copyGateway(t, port)), startSim(t, { unreachable: true })]);
    const [real, simulated] = await Promise.all([
      visit(t, gw.port, STOCK_FINGERPRINT),
      visit(t, sim.port, sim.fingerprint256),
    ]);
    assert.deepEqual(real, { status: 101, frames: [], closed: false });
    assert.deepEqual(simulated, real);
  });
});
