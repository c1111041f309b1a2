/**
 * The login window's policy (main/desktop/login-policy.ts) with real certificates: what the
 * simulator presents on 127.0.0.1 (shaped like IBKR's: expired, no subjectAltName), read with the
 * project's own probe, in both forms Electron's verify proc gives it; and the request rules with
 * the redirects the simulator really sends.
 */
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { describe, test } from 'node:test';
import { fingerprintOfPem, fromElectronFingerprint, LoginPolicy } from '../../main/desktop/login-policy.ts';
import { probeCertificate } from '../../main/session/tls.ts';
import type { Simulator } from '../../main/simulator/server.ts';
import { raw, startSim } from '../helpers.ts';

/** What the simulator presents, as Electron's `Request.certificate` carries it. */
async function presented(sim: Simulator): Promise<{ data: string; fingerprint: string; fingerprint256: string }> {
  const { port } = new URL(sim.url);
  const cert = await probeCertificate('127.0.0.1', Number(port), 3_000);
  const der = new X509Certificate(cert.pem).raw;
  return {
    data: cert.pem,
    fingerprint: `sha256/${createHash('sha256').update(der).digest('base64')}`,
    fingerprint256: cert.fingerprint256,
  };
}

describe('the login window trusts exactly the pinned certificate of its origin', () => {
  test("the simulator's certificate, pinned, is accepted for its origin in either of Electron's forms", async (t) => {
    const sim = await startSim(t, { loggedOut: true });
    const cert = await presented(sim);
    assert.equal(cert.fingerprint256, sim.fingerprint256);
    assert.equal(fromElectronFingerprint(cert.fingerprint), sim.fingerprint256);
    assert.equal(fingerprintOfPem(cert.data), sim.fingerprint256);
    const { port } = new URL(sim.url);
    const policy = new LoginPolicy(sim.url, sim.fingerprint256);
    assert.equal(policy.unusable, undefined);
    assert.equal(policy.loginUrl, `${sim.url}/`);
    assert.deepEqual(policy.certificate({ hostname: '127.0.0.1', port }, cert), { ok: true });
    // Electron names no port: the host and the fingerprint decide, the request rule keeps the port.
    assert.deepEqual(policy.certificate({ hostname: '127.0.0.1' }, cert), { ok: true });
    assert.deepEqual(policy.certificate({ hostname: '127.0.0.1' }, { data: cert.data }), { ok: true });
    assert.deepEqual(policy.certificate({ hostname: '127.0.0.1' }, { fingerprint: cert.fingerprint }), { ok: true });
  });

  test('the certificate for another port or host, another one with the same names: refused', async (t) => {
    const sim = await startSim(t, { loggedOut: true });
    const other = await startSim(t, { loggedOut: true });
    const cert = await presented(sim);
    const otherCert = await presented(other);
    // Same subject, same (absent) names, a key of its own: only the fingerprint tells them apart.
    assert.equal(new X509Certificate(otherCert.data).subject, new X509Certificate(cert.data).subject);
    assert.notEqual(otherCert.fingerprint256, cert.fingerprint256);
    const policy = new LoginPolicy(sim.url, sim.fingerprint256);
    const otherPort = new URL(other.url).port;
    const refusedPort = policy.certificate({ hostname: '127.0.0.1', port: otherPort }, cert);
    assert.deepEqual(refusedPort, {
      ok: false,
      reason: `Refused the certificate of 127.0.0.1:${otherPort}: the login window trusts only ${sim.url}.`,
    });
    assert.equal(policy.certificate({ hostname: 'localhost' }, cert).ok, false);
    assert.equal(policy.certificate({ hostname: '127.0.0.2' }, cert).ok, false);
    const wrong = policy.certificate({ hostname: '127.0.0.1' }, otherCert);
    assert.equal(wrong.ok, false);
    assert.match(
      (wrong as { reason: string }).reason,
      new RegExp(`it is SHA-256 ${otherCert.fingerprint256}, not the trusted ${sim.fingerprint256}\\. .*trust the new`),
    );
    // Its PEM and a fingerprint that disagree (a forged pair): refused, whichever is the pinned one.
    assert.equal(
      policy.certificate({ hostname: '127.0.0.1' }, { data: cert.data, fingerprint: otherCert.fingerprint }).ok,
      false,
    );
    assert.equal(policy.certificate({ hostname: '127.0.0.1' }, { data: 'not a certificate' }).ok, false);
    assert.equal(policy.certificate({ hostname: '127.0.0.1' }, { fingerprint: 'sha1/abc=' }).ok, false);
    assert.equal(policy.certificate({ hostname: '127.0.0.1' }, {}).ok, false);
  });

  test('no pin: nothing is trusted, and the message says to trust the certificate first', async (t) => {
    const sim = await startSim(t, { loggedOut: true });
    const policy = new LoginPolicy(sim.url, undefined);
    assert.match(
      policy.unusable!,
      new RegExp(`^No certificate is trusted for ${sim.url} yet.*ibkr-keeper trust accept`),
    );
    assert.deepEqual(policy.certificate({ hostname: '127.0.0.1' }, await presented(sim)), {
      ok: false,
      reason: policy.unusable,
    });
  });

  test('only an https gateway address makes a policy', () => {
    assert.throws(() => new LoginPolicy('http://127.0.0.1:5000', undefined), /opens only an https gateway/);
    assert.throws(() => new LoginPolicy('not a url', undefined), /is not a URL: set it in Settings/);
    assert.equal(new LoginPolicy('https://LOCALHOST:443', undefined).origin, 'https://localhost');
  });
});

describe('the login window stays on its origin', () => {
  const policy = new LoginPolicy('https://127.0.0.1:5000', `${'AB:'.repeat(31)}AB`);

  test('pages, redirects and what a page loads: only https at that host and port', () => {
    for (const kind of ['navigation', 'redirect', 'resource'] as const) {
      assert.deepEqual(policy.request('https://127.0.0.1:5000/sso/Login?forwardTo=22&RL=1', kind), { ok: true });
      for (const url of [
        'http://127.0.0.1:5000/sso/Login',
        'https://127.0.0.1:5001/',
        'https://127.0.0.1/',
        'https://localhost:5000/',
        'https://127.0.0.1.evil.example:5000/',
        'https://127.0.0.1:5000@evil.example/',
        'https://user:pw@127.0.0.1:5000/',
        'wss://127.0.0.1:5000/v1/api/ws',
        'file:///etc/passwd',
        'javascript:alert(1)',
        'https://api.ibkr.com/sso/Login',
      ])
        assert.equal(policy.request(url, kind).ok, false, `${kind} ${url}`);
    }
    // data: and blob: reach no network: a page may use them, but the window never navigates to them.
    assert.deepEqual(policy.request('data:image/png;base64,iVBORw0KGgo=', 'resource'), { ok: true });
    assert.equal(policy.request('data:text/html,<h1>x</h1>', 'navigation').ok, false);
    assert.equal(policy.request('blob:https://127.0.0.1:5000/1234', 'redirect').ok, false);
    assert.equal(policy.request('::', 'resource').ok, false);
  });

  test("the gateway's redirect to api.ibkr.com is refused, and the log shows no query", async (t) => {
    const sim = await startSim(t, { loggedOut: true });
    const simPolicy = new LoginPolicy(sim.url, sim.fingerprint256);
    const home = await raw(sim, 'GET', '/');
    assert.equal(home.status, 302);
    assert.deepEqual(simPolicy.request(new URL(String(home.headers['location']), sim.url).href, 'redirect'), {
      ok: true,
    });
    const away = await raw(sim, 'GET', '/portal/index.html?token=secret');
    assert.equal(away.headers['location'], 'https://api.ibkr.com/portal/index.html');
    assert.deepEqual(simPolicy.request(`${away.headers['location']}?token=secret`, 'redirect'), {
      ok: false,
      reason: `Refused a redirect to https://api.ibkr.com/portal/index.html: the login window stays on ${sim.url}.`,
    });
  });

  test('a new window is always refused, whatever its address', () => {
    for (const url of ['https://127.0.0.1:5000/', 'https://www.interactivebrokers.com/', 'about:blank'])
      assert.equal(policy.windowOpen(url).ok, false);
    assert.match(
      (policy.windowOpen('https://www.interactivebrokers.com/help?x=1') as { reason: string }).reason,
      /^Refused a new window for https:\/\/www\.interactivebrokers\.com\/help: .*in your browser yourself/,
    );
  });
});
