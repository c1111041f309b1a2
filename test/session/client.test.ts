/**
 * The gateway client and the classification over real HTTPS to the simulator, for every state a
 * check can show, including a changed certificate and broken answers.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkSession } from '../../main/session/check.ts';
import { classify } from '../../main/session/classify.ts';
import { GatewayClient } from '../../main/session/gateway-client.ts';
import { memoryLedger } from '../../main/session/pacing.ts';
import { TrustStore } from '../../main/session/trust-store.ts';
import { customCertificate } from '../../main/simulator/certificate.ts';
import type { SimEventInput } from '../../main/simulator/events.ts';
import { clientFor, raw, startSim, tempDir } from '../helpers.ts';

/** The state `checkSession` reports after the events. */
const cases: Array<{ name: string; events: SimEventInput[]; state: string; reason: RegExp }> = [
  { name: 'logged in', events: [], state: 'ready', reason: /as simuser1 \(paper\)/ },
  {
    name: 'idle timeout',
    events: [{ type: 'drop' }],
    state: 'not-authenticated',
    reason: /timed out or logged out.*login itself is still valid/,
  },
  {
    name: 'connected, not authenticated',
    events: [{ type: 'unauthenticate' }],
    state: 'not-authenticated',
    reason: /connected to IBKR, but/,
  },
  {
    name: 'kicked by another login',
    events: [{ type: 'compete', kicked: true }],
    state: 'competing',
    reason: /Another login holds the session/,
  },
  {
    name: 'another login competing',
    events: [{ type: 'compete', kicked: false }],
    state: 'competing',
    reason: /TWS, mobile/,
  },
  {
    name: 'no SSO (401)',
    events: [{ type: 'expire-sso' }],
    state: 'login-required',
    reason: /Nobody is logged in.*open https:\/\/127\.0\.0\.1:\d+ in a browser/,
  },
  {
    name: 'logged out (RESULT:false)',
    events: [{ type: 'logout' }],
    state: 'login-required',
    reason: /login \(SSO\) session has ended/,
  },
  {
    name: 'IP not allowed',
    events: [{ type: 'access-denied' }],
    state: 'gateway-down',
    reason: /Access Denied.*ips\.allow/,
  },
  {
    name: 'IBKR restart (5xx)',
    events: [{ type: 'restart' }],
    state: 'gateway-down',
    reason: /HTTP 50[03]: IBKR may be restarting/,
  },
  { name: 'no bridge', events: [{ type: 'no-bridge' }], state: 'gateway-down', reason: /"Bad Request: no bridge"/ },
  {
    name: 'malformed body',
    events: [{ type: 'fault', fault: 'malformed' }],
    state: 'gateway-down',
    reason: /not JSON/,
  },
  { name: 'empty body', events: [{ type: 'fault', fault: 'empty' }], state: 'gateway-down', reason: /an empty answer/ },
  {
    name: 'unexpected shape',
    events: [{ type: 'fault', fault: 'unexpected-shape' }],
    state: 'gateway-down',
    reason: /unexpected shape at "authenticated"/,
  },
  {
    name: 'truncated body',
    events: [{ type: 'fault', fault: 'truncated' }],
    state: 'gateway-down',
    reason: /connection to the gateway .* failed/,
  },
  {
    name: 'two resets in a row',
    events: [{ type: 'fault', fault: 'reset', count: 2 }],
    state: 'gateway-down',
    reason: /failed/,
  },
  {
    name: 'an answer slower than the timeout',
    events: [{ type: 'fault', fault: 'slow', delay: '5s' }],
    state: 'gateway-down',
    reason: /did not answer within 3 s: it may not reach IBKR \(is this computer online\?\)/,
  },
];

describe('checkSession over HTTPS classifies every state', () => {
  for (const c of cases) {
    test(`${c.name} -> ${c.state}`, async (t) => {
      const sim = await startSim(t);
      const client = clientFor(t, sim);
      for (const event of c.events) await sim.apply(event);
      const result = await checkSession(client);
      assert.equal(result.state, c.state, result.reason);
      assert.match(result.reason, c.reason);
      assert.equal(sim.limiter.violations, 0);
    });
  }

  test('ready carries the facts a user glances at', async (t) => {
    const sim = await startSim(t);
    const { facts } = await checkSession(clientFor(t, sim));
    assert.equal(facts.userName, 'simuser1');
    assert.equal(facts.account, 'paper');
    assert.equal(facts.serverName, 'JifZ34060');
    assert.match(facts.serverVersion ?? '', /^Build /);
    assert.ok((facts.ssoExpiresInMs ?? 0) > 0);
    assert.ok((facts.latencyMs ?? -1) >= 0);
  });

  test('one connection reset is retried once on a fresh connection and is not a failure', async (t) => {
    const sim = await startSim(t);
    await sim.apply({ type: 'fault', fault: 'reset' });
    assert.equal((await checkSession(clientFor(t, sim))).state, 'ready');
  });

  test('a refused connection is gateway-down with "connection refused"', async (t) => {
    const sim = await startSim(t);
    const client = clientFor(t, sim);
    await checkSession(client);
    await sim.stop();
    const result = await checkSession(client);
    assert.equal(result.state, 'gateway-down');
    assert.match(result.reason, /not running at https:\/\/127\.0\.0\.1:\d+ \(connection refused\)/);
  });

  test('tickle: "no session" is unclear until the auth status tells', async (t) => {
    const sim = await startSim(t);
    const client = clientFor(t, sim);
    await sim.apply({ type: 'unauthenticate' });
    const tickle = await client.tickle();
    assert.equal(tickle.kind, 'gateway-error');
    const first = classify({ tickle }, client.address.origin);
    assert.equal(first.unclear, true);
    await sim.apply({ type: 'compete', kicked: true });
    const second = classify({ tickle, authStatus: await client.authStatus() }, client.address.origin);
    assert.equal(second.state, 'competing');
  });

  test('an authenticated tickle alone is ready, with the session id redacted', async (t) => {
    const sim = await startSim(t);
    const client = clientFor(t, sim);
    const result = classify({ tickle: await client.tickle() }, client.address.origin);
    assert.equal(result.state, 'ready');
    assert.equal(result.unclear, false);
    assert.match(result.facts.session ?? '', /^[0-9a-f]{4}…[0-9a-f]{4}$/);
    assert.ok(!JSON.stringify(result).includes(sim.model.session), 'the whole session id appears nowhere');
  });

  test('RESULT:false from /sso/validate while the session works is not a drop', async (t) => {
    const sim = await startSim(t);
    await sim.apply({ type: 'fault', fault: 'sso-invalid' });
    assert.equal((await checkSession(clientFor(t, sim))).state, 'ready');
  });

  test('a reauthenticate answered "not logged in" is login-required', async (t) => {
    const sim = await startSim(t, { loggedOut: true });
    const client = clientFor(t, sim);
    const result = classify({ reauth: await client.reauthenticate() }, client.address.origin);
    assert.equal(result.state, 'login-required');
  });
});

describe('rate limits', () => {
  test('a 429 is rate-limited, and then nothing more is sent for 10 minutes', async (t) => {
    const sim = await startSim(t);
    const client = clientFor(t, sim);
    await raw(sim, 'POST', '/v1/api/tickle');
    await raw(sim, 'POST', '/v1/api/tickle'); // another program breaks the limit
    const first = await checkSession(client);
    assert.equal(first.state, 'rate-limited');
    assert.match(first.reason, /HTTP 429.*nothing for 10 min/);
    const received = sim.requests().length;
    await sim.apply({ type: 'advance', by: '9m' });
    const second = await checkSession(client);
    assert.equal(second.state, 'rate-limited');
    const left = second.facts.retryAfterMs ?? 0;
    assert.ok(left > 55_000 && left <= 60_000, `${left} ms of the penalty left`);
    assert.equal(sim.requests().length, received, 'nothing was sent during the penalty');
    await sim.apply({ type: 'advance', by: '61s' });
    // Over: requests go again, and show what ten silent minutes did to the session.
    assert.equal((await checkSession(client)).state, 'not-authenticated');
    assert.equal(sim.limiter.violations, 1, 'only the other program broke the limit');
  });

  test('checking again and again never breaks a limit; /sso/validate goes at most once a minute', async (t) => {
    const sim = await startSim(t);
    const dir = tempDir(t);
    for (let i = 0; i < 12; i += 1) {
      // A new client each time, sharing the config folder, as separate `status` runs do.
      const client = new GatewayClient({
        gateway: sim.url,
        trust: new TrustStore(dir),
        pacing: (await import('../../main/session/pacing.ts')).fileLedger(dir),
      });
      assert.equal((await checkSession(client)).state, 'ready');
      await client.close();
    }
    assert.equal(sim.limiter.violations, 0);
    assert.equal(sim.counts()['/v1/api/sso/validate'], 1);
  });

  test('tickles in a row are spaced over a second apart', async (t) => {
    const sim = await startSim(t);
    const client = clientFor(t, sim);
    for (let i = 0; i < 3; i += 1) assert.equal((await client.tickle()).kind, 'answer');
    const times = sim.requests().map((r) => Date.parse(r.at));
    assert.ok(times[1]! - times[0]! >= 1_000 && times[2]! - times[1]! >= 1_000, `gaps ${times.join(', ')}`);
    assert.equal(sim.limiter.violations, 0);
  });

  test('never two requests in flight: calls made at once are sent one after another', async (t) => {
    const sim = await startSim(t);
    const client = clientFor(t, sim);
    await sim.apply({ type: 'fault', fault: 'slow', delay: '300ms' });
    const results = await Promise.all([
      client.authStatus(),
      client.authStatus(),
      client.validate(),
      client.authStatus(),
    ]);
    assert.deepEqual(
      results.map((r) => r.kind),
      ['answer', 'answer', 'answer', 'answer'],
    );
    assert.equal(sim.maxInFlight, 1);
  });
});

describe('certificate trust', () => {
  test('a loopback gateway is trusted on first use, by its SHA-256 fingerprint', async (t) => {
    const sim = await startSim(t);
    const dir = tempDir(t);
    const seen: string[] = [];
    const client = new GatewayClient({
      gateway: sim.url,
      trust: new TrustStore(dir),
      pacing: memoryLedger(),
      onFirstUseTrust: (e) => seen.push(e.fingerprint256),
    });
    t.after(() => client.close());
    assert.equal((await checkSession(client)).state, 'ready');
    assert.deepEqual(seen, [sim.fingerprint256]);
    const pin = new TrustStore(dir).get(sim.url);
    assert.equal(pin?.fingerprint256, sim.fingerprint256);
    assert.equal(pin?.source, 'first-use');
    await checkSession(client);
    assert.equal(seen.length, 1, 'trusted once');
  });

  test(
    'a pinned certificate is accepted by its fingerprint alone: expired, not yet valid, without a SAN, for ' +
      'other names',
    async (t) => {
      const day = 86_400_000;
      const now = Date.now();
      const variants = {
        "IBKR's shape: expired since 2019, no SAN": undefined,
        'not yet valid': await customCertificate({
          name: 'CN=localhost',
          notBefore: new Date(now + 30 * day),
          notAfter: new Date(now + 400 * day),
          altNames: [{ type: 'ip', value: '127.0.0.1' }],
        }),
        'no subjectAltName, valid now': await customCertificate({
          name: 'CN=localhost',
          notBefore: new Date(now - day),
          notAfter: new Date(now + day),
        }),
        'names another host': await customCertificate({
          name: 'CN=evil.example',
          notBefore: new Date(now - day),
          notAfter: new Date(now + day),
          altNames: [{ type: 'dns', value: 'evil.example' }],
        }),
      };
      for (const [name, certificate] of Object.entries(variants)) {
        const sim = await startSim(t, certificate ? { certificate } : {});
        const dir = tempDir(t);
        const result = await checkSession(clientFor(t, sim, { dir, fileLedger: true }));
        assert.equal(result.state, 'ready', `${name}: ${result.reason}`);
        assert.equal(new TrustStore(dir).get(sim.url)?.fingerprint256, sim.fingerprint256, name);
        // A fresh client with the pin (no first use) too; the shared ledger keeps IBKR's limits.
        assert.equal(
          (await checkSession(clientFor(t, sim, { dir, fileLedger: true }))).state,
          'ready',
          `${name}, pinned`,
        );
        assert.equal(sim.limiter.violations, 0);
      }
    },
  );

  test('another certificate of the very same names and dates is refused before anything is sent', async (t) => {
    const sim = await startSim(t);
    const dir = tempDir(t);
    await checkSession(clientFor(t, sim, { dir }));
    const { X509Certificate } = await import('node:crypto');
    const before = new X509Certificate(sim.certificatePem);
    await sim.apply({ type: 'rotate-certificate' });
    const after = new X509Certificate(sim.certificatePem);
    assert.deepEqual(
      [after.subject, after.issuer, after.validFrom, after.validTo],
      [before.subject, before.issuer, before.validFrom, before.validTo],
    );
    const received = sim.requests().length;
    const result = await checkSession(clientFor(t, sim, { dir }));
    assert.equal(result.state, 'untrusted-certificate');
    assert.equal(sim.requests().length, received, 'not one request reached it');
  });

  test(
    'a changed certificate is untrusted-certificate, ' + 'names both fingerprints, and nothing is sent over it',
    async (t) => {
      const sim = await startSim(t);
      const dir = tempDir(t);
      const client = clientFor(t, sim, { dir });
      await checkSession(client);
      const pinned = sim.fingerprint256;
      await sim.apply({ type: 'rotate-certificate' });
      const received = sim.requests().length;
      const result = await checkSession(client);
      assert.equal(result.state, 'untrusted-certificate');
      assert.equal(result.facts.pinnedFingerprint, pinned);
      assert.equal(result.facts.presentedFingerprint, sim.fingerprint256);
      assert.match(result.reason, /Nothing was sent to it/);
      assert.equal(sim.requests().length, received, 'no HTTP request reached the gateway');
      assert.equal(new TrustStore(dir).get(sim.url)?.fingerprint256, pinned, 'the pin is not replaced by itself');
      // A fresh process with the same folder refuses it too.
      assert.equal((await checkSession(clientFor(t, sim, { dir }))).state, 'untrusted-certificate');
    },
  );

  test(
    'a fingerprint the user recorded is checked before ' + 'first contact and completed with the certificate',
    async (t) => {
      const sim = await startSim(t);
      const dir = tempDir(t);
      new TrustStore(dir).record(sim.url, { fingerprint256: '00:'.repeat(31) + '00', source: 'user' });
      const wrong = await checkSession(clientFor(t, sim, { dir }));
      assert.equal(wrong.state, 'untrusted-certificate');
      assert.equal(sim.requests().length, 0);
      new TrustStore(dir).record(sim.url, { fingerprint256: sim.fingerprint256, source: 'user' });
      assert.equal((await checkSession(clientFor(t, sim, { dir }))).state, 'ready');
      const pin = new TrustStore(dir).get(sim.url);
      assert.equal(pin?.source, 'user');
      assert.match(pin?.pem ?? '', /BEGIN CERTIFICATE/);
    },
  );

  test('a broken trust file gives a clear error naming it, and is left as it was', async (t) => {
    const dir = tempDir(t);
    const { writeFileSync, readFileSync } = await import('node:fs');
    writeFileSync(`${dir}/trust.json`, '{ broken');
    assert.throws(() => new TrustStore(dir).list(), /trust\.json .*fix or delete the file/);
    writeFileSync(
      `${dir}/trust.json`,
      JSON.stringify({ version: 1, pins: { 'https://localhost:5000': { fingerprint256: 'nope' } } }),
    );
    assert.throws(
      () => new TrustStore(dir).list(),
      /trust\.json does not hold what the keeper expects at "pins\.https:\/\/localhost:5000\.fingerprint256"/,
    );
    assert.match(readFileSync(`${dir}/trust.json`, 'utf8'), /nope/);
  });
});
