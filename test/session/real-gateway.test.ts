/**
 * The keeper against IBKR's real Client Portal Gateway (test/real-gateway.ts): its stock
 * certificate, trusted by pin although expired and without a subjectAltName, and what it does
 * here, where it cannot reach IBKR: API requests accepted and never answered.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TrustStore } from '../../main/session/trust-store.ts';
import { runCli, spawnCli, tempDir, pattern } from '../helpers.ts';
import { copyGateway, freePort, Scope, startGateway, STOCK_FINGERPRINT, type RealGateway } from '../real-gateway.ts';

describe('the real gateway', () => {
  // One gateway for the whole suite: it starts in about 5 s.
  const scope = new Scope();
  let gw: RealGateway;
  before(async () => {
    gw = await startGateway(scope, copyGateway(scope, await freePort()));
  });
  after(() => scope.run());

  test(
    'the first status pins the stock certificate, names ' + 'it as publicly known, and is not untrusted-certificate',
    async (t) => {
      const dir = tempDir(t);
      const result = await runCli(['status', '--gateway', gw.url, '--config-dir', dir, '--timeout', '2', '--json']);
      const out = JSON.parse(result.stdout);
      assert.notEqual(out.state, 'untrusted-certificate', out.reason);
      assert.match(
        result.stderr,
        new RegExp(`Trusted the certificate of ${gw.url} on first use: SHA-256 ${STOCK_FINGERPRINT}`),
      );
      assert.match(
        result.stderr,
        /Note: This is the certificate IBKR ships with every copy of the gateway: its private key is in every download/,
      );
      assert.match(result.stderr, /ibkr-keeper gateway certificate --dir/);
      assert.deepEqual(out.certificate, {
        fingerprint256: STOCK_FINGERPRINT,
        publiclyKnown: true,
        notice: out.certificate.notice,
      });
      assert.equal(new TrustStore(dir).get(gw.url)?.fingerprint256, STOCK_FINGERPRINT);
      // The second run trusts it without a word about first use.
      const again = await runCli(['status', '--gateway', gw.url, '--config-dir', dir, '--timeout', '2']);
      assert.doesNotMatch(again.stderr, /on first use/);
      assert.notEqual(again.code, 8);
    },
  );

  test('with --gateway-dir, the note names that folder in the command to run, not GATEWAY_FOLDER', async (t) => {
    const config = tempDir(t);
    const args = ['status', '--gateway', gw.url, '--config-dir', config, '--timeout', '1'];
    const given = await runCli([...args, '--gateway-dir', gw.dir, '--json']);
    const command = `ibkr-keeper gateway certificate --dir ${gw.dir}.`;
    assert.ok(given.stderr.includes(`Note: This is the certificate IBKR ships`), given.stderr);
    assert.ok(given.stderr.includes(command), given.stderr);
    assert.ok(JSON.parse(given.stdout).certificate.notice.endsWith(command));
    assert.doesNotMatch(given.stderr + given.stdout, /GATEWAY_FOLDER/);
    const unknown = await runCli([...args, '--json']);
    assert.ok(JSON.parse(unknown.stdout).certificate.notice.endsWith('--dir GATEWAY_FOLDER.'));
  });

  test('IBKR out of reach: gateway-down within the timeout, saying the gateway may not reach IBKR', async (t) => {
    const dir = tempDir(t);
    const started = Date.now();
    const result = await runCli(['status', '--gateway', gw.url, '--config-dir', dir, '--timeout', '2']);
    assert.equal(result.code, 6, result.stdout);
    assert.match(
      result.stdout,
      pattern(
        /^gateway-down: The gateway at https:\/\/localhost:\d+ did not answer /,
        /within 2 s: it may not reach IBKR \(is this computer online\?\)/,
      ),
    );
    assert.ok(Date.now() - started < 20_000, 'bounded by the timeout');
  });

  test('trust show names the stock certificate as publicly known', async (t) => {
    const dir = tempDir(t);
    const result = await runCli(['trust', 'show', '--gateway', gw.url, '--config-dir', dir, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout);
    assert.equal(out.presented, STOCK_FINGERPRINT);
    assert.equal(out.publiclyKnown, true);
    const human = await runCli(['trust', 'show', '--gateway', gw.url, '--config-dir', dir]);
    assert.match(human.stdout, /note: +This is the certificate IBKR ships/);
  });

  test('a pin of another certificate is refused: untrusted-certificate naming both fingerprints', async (t) => {
    const dir = tempDir(t);
    const other = 'AB:'.repeat(31) + 'AB';
    new TrustStore(dir).record(gw.url, { fingerprint256: other, source: 'user' });
    const result = await runCli(['status', '--gateway', gw.url, '--config-dir', dir, '--timeout', '2', '--json']);
    assert.equal(result.code, 8);
    const out = JSON.parse(result.stdout);
    assert.equal(out.state, 'untrusted-certificate');
    assert.equal(out.facts.pinnedFingerprint, other);
    assert.equal(out.facts.presentedFingerprint, STOCK_FINGERPRINT);
    assert.equal(new TrustStore(dir).get(gw.url)?.fingerprint256, other, 'the pin is left as the user set it');
  });

  test('watch: gateway-down with the reason, and the stock certificate said once', async (t) => {
    const dir = tempDir(t);
    new TrustStore(dir).record(gw.url, { fingerprint256: STOCK_FINGERPRINT, source: 'first-use' });
    const watch = spawnCli(t, ['watch', '--gateway', gw.url, '--config-dir', dir, '--timeout', '2', '--json']);
    const deadline = Date.now() + 30_000;
    while (!watch.stdout().includes('\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    watch.child.kill('SIGTERM');
    await new Promise((r) => watch.child.once('close', r));
    const stderr = watch.stderr();
    const first = JSON.parse(watch.stdout().split('\n')[0]!);
    assert.equal(first.state, 'gateway-down');
    assert.match(first.reason, /did not answer within 2 s: it may not reach IBKR/);
    assert.equal(stderr.match(/This is the certificate IBKR ships/g)?.length, 1, JSON.stringify(stderr));
  });
});
