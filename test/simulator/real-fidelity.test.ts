/**
 * The simulator beside IBKR's real gateway (test/real-gateway.ts), asked the same questions at the
 * same moment: what each answers must be the same wherever the real one can be seen here (it
 * cannot reach IBKR, so nobody logs in; docs/gateway.md, "The simulator against the real
 * gateway"). Two real gateways start once, side by side: one as shipped, one whose allow list
 * leaves out 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { describe, test } from 'node:test';
import * as x509 from '@peculiar/x509';
import { checkSession } from '../../main/session/check.ts';
import { GatewayClient } from '../../main/session/gateway-client.ts';
import { memoryLedger } from '../../main/session/pacing.ts';
import { probeCertificate } from '../../main/session/tls.ts';
import { TrustStore } from '../../main/session/trust-store.ts';
import { raw, startSim, tempDir, type RawAnswer, type RawTarget } from '../helpers.ts';
import { copyGateway, editConf, freePort, startGateway, STOCK_FINGERPRINT } from '../real-gateway.ts';

/** Paths the gateway answers itself: `/` to the login page, the rest to api.ibkr.com. */
const REDIRECTED = [
  '/',
  '/?a=b',
  '/x',
  '/x?a=b',
  '/v1',
  '/v1/api',
  '/v1/portal',
  '/v1/other/x',
  '/demo/x',
  '/favicon.ico',
  '/sso',
  '/a/../b',
  '//x',
  '/a%20b',
  '/V1/api/tickle',
];
/** Paths the gateway proxies to IBKR, which it cannot reach here. */
const PROXIED: Array<[string, string]> = [
  ['POST', '/v1/api/tickle'],
  ['POST', '/v1/api/iserver/auth/status'],
  ['GET', '/v1/api/sso/validate'],
  ['POST', '/v1/portal/tickle'],
  ['GET', '/sso/Login?forwardTo=22&RL=1&ip2loc=US'],
];
/** A client's patience with a request that is never answered (the real gateway said nothing for 65 s). */
const PATIENCE_MS = 3_000;

/** What an answer looks like on the wire: status, header lines as sent, body. */
function wire(a: RawAnswer): { status: number; headers: string[]; text: string } {
  return { status: a.status, headers: a.rawHeaders, text: a.text };
}

/** How a request ended: answered with a status, or the client's error name and code. */
function ending(request: Promise<RawAnswer>): Promise<string> {
  return request.then(
    (a) => `answered ${a.status}`,
    (error: NodeJS.ErrnoException) => `${error.name} ${error.code ?? ''}`.trim(),
  );
}

/** The certificate a server presents, in the facts that make its shape. */
async function shape(port: number): Promise<Record<string, unknown>> {
  const pem = (await probeCertificate('127.0.0.1', port, 3_000)).pem;
  const cert = new X509Certificate(pem);
  const parsed = new x509.X509Certificate(pem);
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    selfSigned: cert.checkIssued(cert) && cert.verify(cert.publicKey),
    subjectAltName: cert.subjectAltName,
    validFrom: cert.validFrom,
    validTo: cert.validTo,
    expired: new Date(cert.validTo).getTime() < Date.now(),
    ca: cert.ca,
    key: `${cert.publicKey.asymmetricKeyType} ${cert.publicKey.asymmetricKeyDetails?.modulusLength}`,
    signature: JSON.stringify(parsed.signatureAlgorithm),
    extensions: parsed.extensions.map((e) => e.type),
    serialBytes: cert.serialNumber.length / 2,
  };
}

/** What a client that checks dates and names (with the certificate as its CA) makes of a server. */
function ordinaryClient(port: number, ca: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: [ca] });
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve('accepted');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('the simulator beside the real gateway', () => {
  test('answers as the real gateway where it can be seen here', async (t) => {
    const [port, deniedPort] = [await freePort(), await freePort()];
    const deniedDir = copyGateway(t, deniedPort);
    editConf(deniedDir, (text) => text.replace(/^\s*- 127\.0\.0\.1\n/m, ''));
    const [gw, deniedGw, sim, deniedSim, unreachableSim] = await Promise.all([
      startGateway(t, copyGateway(t, port)),
      startGateway(t, deniedDir),
      startSim(t),
      startSim(t),
      startSim(t, { unreachable: true }),
    ]);
    await deniedSim.apply({ type: 'access-denied' });
    const real: RawTarget = { url: `https://127.0.0.1:${gw.port}`, fingerprint256: STOCK_FINGERPRINT };
    const denied: RawTarget = { url: `https://127.0.0.1:${deniedGw.port}`, fingerprint256: STOCK_FINGERPRINT };

    await t.test(
      "the certificate: IBKR's shape (self-signed RSA, its subject, no subjectAltName, expired), another key",
      async () => {
        const [realShape, simShape] = await Promise.all([shape(gw.port), shape(sim.port)]);
        assert.deepEqual(simShape, realShape);
        assert.equal(realShape['expired'], true);
        assert.equal(realShape['subjectAltName'], undefined);
        assert.equal(sim.fingerprint256 === STOCK_FINGERPRINT, false, "not IBKR's published key");
        const realPem = (await probeCertificate('127.0.0.1', gw.port, 3_000)).pem;
        assert.deepEqual(
          await Promise.all([ordinaryClient(gw.port, realPem), ordinaryClient(sim.port, sim.certificatePem)]),
          ['CERT_HAS_EXPIRED', 'CERT_HAS_EXPIRED'],
          'a client that checks dates refuses both; the keeper pins them by fingerprint',
        );
      },
    );

    await t.test('redirects: / to the login page, every path outside /v1/api/ and /sso/ to api.ibkr.com', async () => {
      for (const [method, keepAlive] of [
        ['GET', true],
        ['POST', true],
        ['HEAD', true],
        ['GET', false],
      ] as const) {
        for (const path of REDIRECTED) {
          const [r, s] = await Promise.all([
            raw(real, method, path, undefined, { keepAlive }),
            raw(sim, method, path, undefined, { keepAlive }),
          ]);
          assert.equal(r.status, 302, `${method} ${path}`);
          assert.deepEqual(wire(s), wire(r), `${method} ${path}${keepAlive ? '' : ', Connection: close'}`);
        }
      }
    });

    await t.test('the demo app at /demo is served, not redirected', async () => {
      for (const [path, keepAlive] of [
        ['/demo', true],
        ['/demo/', false],
        ['/demo/index.html', true],
      ] as const) {
        const [r, s] = await Promise.all([
          raw(real, 'GET', path, undefined, { keepAlive }),
          raw(sim, 'GET', path, undefined, { keepAlive }),
        ]);
        assert.equal(s.status, r.status, path);
        const names = (a: RawAnswer): string[] => a.rawHeaders.filter((_, i) => i % 2 === 0);
        assert.deepEqual(names(s), names(r), path);
        assert.deepEqual(
          [s.headers['content-type'], s.headers['cache-control']],
          [r.headers['content-type'], r.headers['cache-control']],
          path,
        );
      }
    });

    await t.test('IPv4 only: [::1] is refused; https://localhost reaches both', async () => {
      const v6 = (target: RawTarget, p: number): Promise<string> =>
        ending(raw({ url: `https://[::1]:${p}`, fingerprint256: target.fingerprint256 }, 'GET', '/'));
      const [r, s] = await Promise.all([v6(real, gw.port), v6(sim, sim.port)]);
      assert.match(r, /ECONNREFUSED|EADDRNOTAVAIL/);
      assert.equal(s, r);
      const viaLocalhost = await Promise.all([
        raw({ url: `https://localhost:${gw.port}`, fingerprint256: STOCK_FINGERPRINT }, 'GET', '/x'),
        raw({ url: `https://localhost:${sim.port}`, fingerprint256: sim.fingerprint256 }, 'GET', '/x'),
      ]);
      assert.deepEqual(wire(viaLocalhost[1]), wire(viaLocalhost[0]));
    });

    await t.test('an address not allowed: 404 "Access Denied" on every path, the login page included', async () => {
      // Not HEAD: the real gateway sends the 13 bytes even then, which a client reads as a broken
      // next answer (docs/gateway.md); the simulator, on Node's HTTP server, cannot.
      const requests = [
        ['GET', '/'],
        ['GET', '/x'],
        ['GET', '/demo/'],
        ['POST', '/v1/api/tickle'],
        ['GET', '/sso/Login'],
        ['PUT', '/v1/portal/x'],
      ] as const;
      for (const keepAlive of [true, false]) {
        for (const [method, path] of requests) {
          const [r, s] = await Promise.all([
            raw(denied, method, path, undefined, { keepAlive }),
            raw(deniedSim, method, path, undefined, { keepAlive }),
          ]);
          assert.equal(r.status, 404, `${method} ${path}`);
          assert.deepEqual(wire(s), wire(r), `${method} ${path}${keepAlive ? '' : ', Connection: close'}`);
        }
      }
    });

    await t.test(
      'IBKR unreachable: API requests and the login page are accepted and never answered; the keeper makes the ' +
        'same of both',
      async (st) => {
        const client = (url: string): GatewayClient => {
          const c = new GatewayClient({
            gateway: url,
            trust: new TrustStore(tempDir(st)),
            pacing: memoryLedger(),
            timeoutMs: PATIENCE_MS,
          });
          st.after(() => c.close());
          return c;
        };
        const [endings, checks] = await Promise.all([
          Promise.all(
            PROXIED.flatMap(([method, path]) =>
              [real, unreachableSim].map((target) =>
                ending(raw(target, method, path, undefined, { timeoutMs: PATIENCE_MS })),
              ),
            ),
          ),
          Promise.all([checkSession(client(gw.url)), checkSession(client(`https://localhost:${unreachableSim.port}`))]),
        ]);
        for (const [i, [method, path]] of PROXIED.entries()) {
          assert.equal(endings[2 * i], 'AbortError ABORT_ERR', `real: ${method} ${path}`);
          assert.equal(endings[2 * i + 1], endings[2 * i], `simulator: ${method} ${path}`);
        }
        const [r, s] = checks;
        assert.equal(r.state, 'gateway-down');
        assert.equal(s.state, r.state);
        assert.equal(s.reason.replace(/:\d+/, ':PORT'), r.reason.replace(/:\d+/, ':PORT'));
      },
    );
  });
});
