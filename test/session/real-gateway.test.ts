/**
 * The keeper against IBKR's real Client Portal Gateway (test/real-gateway.ts): its stock
 * certificate, its routing and what it does when it cannot reach IBKR.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli, tempDir } from '../helpers.ts';
import { copyGateway, freePort, startGateway, STOCK_FINGERPRINT } from '../real-gateway.ts';

describe('the real gateway', () => {
  test('the first status pins the stock certificate and is not untrusted-certificate', async (t) => {
    const gw = await startGateway(t, copyGateway(t, await freePort()));
    const dir = tempDir(t);
    const result = await runCli(['status', '--gateway', gw.url, '--config-dir', dir, '--timeout', '2', '--json']);
    const out = JSON.parse(result.stdout);
    assert.equal(out.state, 'gateway-down', result.stdout);
    assert.match(result.stderr, new RegExp(STOCK_FINGERPRINT));
  });
});
