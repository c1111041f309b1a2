/**
 * The simulator answers as the captures in docs/gateway.md say the real gateway does, state by
 * state, over real HTTPS with its certificate pinned (what can be seen from the real gateway here
 * is compared side by side in real-fidelity.test.ts).
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, test } from 'node:test';
import { checkSession } from '../../main/session/check.ts';
import { clientFor, raw, startSim } from '../helpers.ts';

const API = '/v1/api';

describe('simulated gateway, logged in', () => {
  test('tickle answers the authenticated body, chunked, with a 32-hex session', async (t) => {
    const sim = await startSim(t);
    const a = await raw(sim, 'POST', `${API}/tickle`);
    assert.equal(a.status, 200);
    assert.equal(a.headers['transfer-encoding'], 'chunked');
    assert.equal(a.headers['content-length'], undefined);
    const body = a.json as Record<string, any>;
    assert.match(body['session'], /^[0-9a-f]{32}$/);
    assert.equal(body['collission'], false);
    assert.equal(typeof body['userId'], 'number');
    assert.ok(body['ssoExpires'] > 300_000 && body['ssoExpires'] <= 600_000, `ssoExpires ${body['ssoExpires']}`);
    assert.deepEqual(body['hmds'], { error: 'no bridge' });
    const auth = body['iserver'].authStatus;
    assert.deepEqual(
      {
        authenticated: auth.authenticated,
        competing: auth.competing,
        connected: auth.connected,
        established: auth.established,
        fail: auth.fail,
      },
      { authenticated: true, competing: false, connected: true, established: true, fail: '' },
    );
    assert.match(auth.serverInfo.serverName, /\w+/);
    assert.match(auth.serverInfo.serverVersion, /^Build /);
    assert.equal(
      (await raw(sim, 'GET', `${API}/tickle`)).status,
      429,
      'a second tickle within a second is over the limit',
    );
  });

  test('auth status, validate, accounts and logout answer their bodies; GET works for tickle and status', async (t) => {
    const sim = await startSim(t);
    const status = await raw(sim, 'GET', `${API}/iserver/auth/status`);
    assert.equal(status.status, 200);
    assert.equal((status.json as any).authenticated, true);
    assert.equal((status.json as any).fail, '');
    const validate = (await raw(sim, 'GET', `${API}/sso/validate`)).json as Record<string, any>;
    assert.equal(validate['RESULT'], true);
    assert.equal(validate['LOGIN_TYPE'], 2, 'the simulated user is a paper user');
    assert.equal(typeof validate['USER_NAME'], 'string');
    assert.ok(validate['EXPIRES'] > 0);
    assert.equal(typeof validate['AUTH_TIME'], 'number');
    assert.deepEqual(((await raw(sim, 'GET', `${API}/iserver/accounts`)).json as any).accounts.length, 1);
    const logout = await raw(sim, 'POST', `${API}/logout`);
    assert.deepEqual(logout.json, { status: true });
  });

  test('right after /logout, tickle still returns a session, disconnected, ssoExpires 600000', async (t) => {
    const sim = await startSim(t);
    await raw(sim, 'POST', `${API}/logout`);
    const tickle = (await raw(sim, 'POST', `${API}/tickle`)).json as Record<string, any>;
    assert.match(tickle['session'], /^[0-9a-f]{32}$/);
    assert.equal(tickle['ssoExpires'], 600_000);
    assert.equal(tickle['iserver'].authStatus.authenticated, false);
    assert.equal(tickle['iserver'].authStatus.connected, false);
    assert.deepEqual((await raw(sim, 'POST', `${API}/iserver/reauthenticate`)).json, { error: 'not logged in' });
    assert.equal(((await raw(sim, 'GET', `${API}/sso/validate`)).json as any).RESULT, false);
  });

  test('the older /v1/portal prefix is rewritten to /v1/api', async (t) => {
    const sim = await startSim(t);
    const a = await raw(sim, 'POST', '/v1/portal/iserver/auth/status');
    assert.equal((a.json as any).authenticated, true);
    assert.equal(sim.requests().at(-1)?.path, '/v1/api/iserver/auth/status');
  });

  test('an unknown API path answers 404 "Unknown path"', async (t) => {
    const sim = await startSim(t);
    const a = await raw(sim, 'GET', `${API}/nowhere`);
    assert.equal(a.status, 404);
    assert.match(a.text, /^Unknown path/);
  });
});

describe('simulated gateway, session states', () => {
  test(
    'connected but not authenticated: tickle {"error":"no ' + 'session"}, other /iserver calls "Init session first"',
    async (t) => {
      const sim = await startSim(t);
      await sim.apply({ type: 'unauthenticate' });
      assert.deepEqual((await raw(sim, 'POST', `${API}/tickle`)).json, { error: 'no session' });
      const status = (await raw(sim, 'POST', `${API}/iserver/auth/status`)).json as any;
      assert.deepEqual(
        [status.authenticated, status.competing, status.connected, status.fail],
        [false, false, true, ''],
      );
      const accounts = await raw(sim, 'GET', `${API}/iserver/accounts`);
      assert.equal(accounts.status, 400);
      assert.deepEqual(accounts.json, { error: 'Init session first', statusCode: 400 });
    },
  );

  test(
    'competing: authenticated and competing, then kicked; ' + 'ssodh/init without compete leaves the real fail text',
    async (t) => {
      const sim = await startSim(t, { settings: { reauthLatencyMs: 1_000 } });
      await sim.apply({ type: 'compete', kicked: false });
      let status = (await raw(sim, 'POST', `${API}/iserver/auth/status`)).json as any;
      assert.deepEqual([status.authenticated, status.competing, status.connected], [true, true, true]);
      await sim.apply({ type: 'compete', kicked: true });
      status = (await raw(sim, 'POST', `${API}/iserver/auth/status`)).json as any;
      assert.deepEqual([status.authenticated, status.competing], [false, true]);
      assert.equal(
        (await raw(sim, 'POST', `${API}/iserver/auth/ssodh/init`, { publish: true, compete: false })).status,
        200,
      );
      await sim.apply({ type: 'advance', by: '2s' });
      status = (await raw(sim, 'POST', `${API}/iserver/auth/status`)).json as any;
      assert.deepEqual([status.authenticated, status.competing], [false, true]);
      assert.equal(status.fail, 'Force compete capability must be used together with compete flag');
    },
  );

  test(
    'a plain reauthenticate takes the session from ' + "another login, as the gateway's own login competes",
    async (t) => {
      const sim = await startSim(t, { settings: { reauthLatencyMs: 1_000 } });
      await sim.apply({ type: 'compete', kicked: true });
      assert.deepEqual((await raw(sim, 'POST', `${API}/iserver/reauthenticate`)).json, { message: 'triggered' });
      await sim.apply({ type: 'advance', by: '2s' });
      const status = (await raw(sim, 'POST', `${API}/iserver/auth/status`)).json as any;
      assert.deepEqual(
        [status.authenticated, status.competing, status.connected, status.fail],
        [true, false, true, ''],
      );
      assert.deepEqual((sim.snapshot()['otherLogin'] as any).holdsSession, false, 'the other login was kicked');
    },
  );

  test('a tug of war: the other login takes the session back a set time after each reauthentication', async (t) => {
    const sim = await startSim(t, { settings: { reauthLatencyMs: 5_000 } });
    await sim.apply({ type: 'compete', kicked: true, takeBackAfter: '30s' });
    const auth = async (): Promise<boolean[]> => {
      const s = (await raw(sim, 'POST', `${API}/iserver/auth/status`)).json as any;
      return [s.authenticated, s.competing];
    };
    for (let round = 1; round <= 2; round += 1) {
      await raw(sim, 'POST', `${API}/iserver/reauthenticate`);
      await sim.apply({ type: 'advance', by: '5s' });
      assert.deepEqual(await auth(), [true, false], `round ${round}: this gateway holds the session`);
      await sim.apply({ type: 'advance', by: '29s' });
      assert.deepEqual(await auth(), [true, false], `round ${round}: not yet taken back`);
      await sim.apply({ type: 'advance', by: '1s' });
      assert.deepEqual(await auth(), [false, true], `round ${round}: taken back 30 s after it was lost`);
    }
    assert.equal(sim.model.takeBacks, 2);
    await sim.apply({ type: 'recover' });
    await raw(sim, 'POST', `${API}/iserver/reauthenticate`);
    await sim.apply({ type: 'advance', by: '4m' });
    assert.deepEqual(await auth(), [true, false], 'recover ended the fight');
  });

  test(
    'a tug of war that looks like plain drops: taken, ' + 'and taken back, as not authenticated, not competing',
    async (t) => {
      const sim = await startSim(t, { settings: { reauthLatencyMs: 1_000 } });
      await sim.apply({ type: 'compete', kicked: true, takeBackAfter: '10s', shows: 'not-authenticated' });
      const first = (await raw(sim, 'POST', `${API}/iserver/auth/status`)).json as any;
      assert.deepEqual([first.authenticated, first.competing, first.connected], [false, false, true]);
      await raw(sim, 'POST', `${API}/iserver/reauthenticate`);
      await sim.apply({ type: 'advance', by: '1s' });
      assert.equal(((await raw(sim, 'POST', `${API}/iserver/auth/status`)).json as any).authenticated, true);
      await sim.apply({ type: 'advance', by: '10s' });
      const status = (await raw(sim, 'POST', `${API}/iserver/auth/status`)).json as any;
      assert.deepEqual([status.authenticated, status.competing, status.connected], [false, false, true]);
      assert.deepEqual((await raw(sim, 'POST', `${API}/tickle`)).json, { error: 'no session' });
      await raw(sim, 'POST', `${API}/iserver/auth/ssodh/init`, { publish: true, compete: false });
      await sim.apply({ type: 'advance', by: '2s' });
      assert.equal(
        ((await raw(sim, 'POST', `${API}/iserver/auth/status`)).json as any).fail,
        'Force compete capability must be used together with compete flag',
        'the other login holds it',
      );
    },
  );

  test(
    'after a drop: /iserver calls answer 401 "not authenticated", while the auth status and reauthenticate ' +
      'still work',
    async (t) => {
      const sim = await startSim(t, { settings: { reauthLatencyMs: 1_000 } });
      await sim.apply({ type: 'drop' });
      for (const path of ['/iserver/accounts', '/iserver/secdef/search']) {
        const a = await raw(sim, 'GET', `${API}${path}`);
        assert.equal(a.status, 401, path);
        assert.deepEqual(a.json, { error: 'not authenticated', statusCode: 401 }, path);
      }
      const status = await raw(sim, 'POST', `${API}/iserver/auth/status`);
      assert.equal(status.status, 200);
      assert.deepEqual([(status.json as any).authenticated, (status.json as any).connected], [false, false]);
      assert.equal(
        ((await raw(sim, 'GET', `${API}/sso/validate`)).json as any).RESULT,
        true,
        'the login is still valid',
      );
      assert.deepEqual((await raw(sim, 'POST', `${API}/iserver/reauthenticate`)).json, { message: 'triggered' });
      await sim.apply({ type: 'advance', by: '2s' });
      assert.equal((await raw(sim, 'GET', `${API}/iserver/accounts`)).status, 200);
    },
  );

  test('after /logout, ssodh/init answers 410 Gone or 503; the keeper sees the login ended', async (t) => {
    const sim = await startSim(t);
    assert.deepEqual((await raw(sim, 'POST', `${API}/logout`)).json, { status: true });
    const statuses = [];
    for (let i = 0; i < 2; i += 1)
      statuses.push(
        (await raw(sim, 'POST', `${API}/iserver/auth/ssodh/init`, { publish: true, compete: true })).status,
      );
    assert.deepEqual(statuses.sort(), [410, 503]);
    const tickle = (await raw(sim, 'POST', `${API}/tickle`)).json as any;
    assert.deepEqual(
      [tickle.iserver.authStatus.authenticated, tickle.iserver.authStatus.connected, tickle.ssoExpires],
      [false, false, 600_000],
    );
    await sim.apply({ type: 'advance', by: '2m' });
    assert.equal((await checkSession(clientFor(t, sim))).state, 'login-required');
  });

  test('ssodh/init with compete:true takes the session over after the reauthentication latency', async (t) => {
    const sim = await startSim(t, { settings: { reauthLatencyMs: 5_000 } });
    await sim.apply({ type: 'compete', kicked: true });
    const init = await raw(sim, 'POST', `${API}/iserver/auth/ssodh/init`, { publish: true, compete: true });
    assert.equal(init.status, 200);
    assert.equal((init.json as any).authenticated, false);
    await sim.apply({ type: 'advance', by: '5s' });
    const status = (await raw(sim, 'POST', `${API}/iserver/auth/status`)).json as any;
    assert.deepEqual([status.authenticated, status.competing, status.connected], [true, false, true]);
    const bad = await raw(sim, 'POST', `${API}/iserver/auth/ssodh/init`, 'not an object');
    assert.equal(bad.status, 400);
  });

  test('no SSO: 401 on every API path, except reauthenticate which answers "not logged in"', async (t) => {
    const sim = await startSim(t, { loggedOut: true });
    for (const [method, path] of [
      ['POST', '/tickle'],
      ['POST', '/iserver/auth/status'],
      ['GET', '/sso/validate'],
      ['POST', '/logout'],
    ] as const) {
      const a = await raw(sim, method, `${API}${path}`);
      assert.equal(a.status, 401, path);
      assert.equal(a.text, '', `${path} body`);
    }
    assert.deepEqual((await raw(sim, 'POST', `${API}/iserver/reauthenticate`)).json, { error: 'not logged in' });
  });

  test('GET / redirects to the login page; its form logs in ("Client login succeeds")', async (t) => {
    const sim = await startSim(t, { loggedOut: true });
    const root = await raw(sim, 'GET', '/');
    assert.equal(root.status, 302);
    assert.equal(root.headers['location'], '/sso/Login?forwardTo=22&RL=1&ip2loc=US');
    const page = await raw(sim, 'GET', '/sso/Login?forwardTo=22&RL=1&ip2loc=US');
    assert.match(page.text, /<form method="post" action="\/sso\/Login">/);
    const login = await raw(sim, 'POST', '/sso/Login');
    assert.equal(login.text, 'Client login succeeds');
    assert.equal(((await raw(sim, 'POST', `${API}/iserver/auth/status`)).json as any).authenticated, true);
  });

  test(
    'IP not allowed: 404 "Access Denied" everywhere, the ' + 'login page and redirects included, with no content type',
    async (t) => {
      const sim = await startSim(t);
      await sim.apply({ type: 'access-denied' });
      for (const path of [`${API}/tickle`, '/', '/sso/Login', '/x']) {
        const a = await raw(sim, 'GET', path, undefined, { keepAlive: true });
        assert.equal(a.status, 404);
        assert.equal(a.text, 'Access Denied');
        assert.deepEqual(a.rawHeaders, ['Content-Length', '13']);
      }
    },
  );

  test('IBKR restart: 500 and 503 with empty bodies, then the brokerage session is gone', async (t) => {
    const sim = await startSim(t);
    await sim.apply({ type: 'restart', duration: '30s' });
    const statuses = [];
    for (const path of ['/iserver/auth/status', '/iserver/auth/status']) {
      const a = await raw(sim, 'POST', `${API}${path}`);
      assert.equal(a.text, '');
      statuses.push(a.status);
    }
    assert.deepEqual(statuses.sort(), [500, 503]);
    await sim.apply({ type: 'advance', by: '31s' });
    const status = (await raw(sim, 'POST', `${API}/iserver/auth/status`)).json as any;
    assert.deepEqual([status.authenticated, status.connected], [false, false]);
  });

  test('no bridge: tickle "failed to process request", /iserver "Bad Request: no bridge"', async (t) => {
    const sim = await startSim(t);
    await sim.apply({ type: 'no-bridge' });
    assert.deepEqual((await raw(sim, 'POST', `${API}/tickle`)).json, { error: 'failed to process request' });
    const status = await raw(sim, 'POST', `${API}/iserver/auth/status`);
    assert.equal(status.status, 400);
    assert.deepEqual(status.json, { error: 'Bad Request: no bridge', statusCode: 400 });
    await sim.apply({ type: 'recover' });
    assert.equal(((await raw(sim, 'POST', `${API}/iserver/auth/status`)).json as any).authenticated, true);
  });

  test('older builds: 2021 adds "tickle":true and prompts, without fail or established', async (t) => {
    const sim = await startSim(t, { settings: { variant: '2021' } });
    const tickle = (await raw(sim, 'POST', `${API}/tickle`)).json as any;
    assert.equal(tickle.tickle, true);
    assert.deepEqual(tickle.hmds, { authStatus: [] });
    const status = (await raw(sim, 'POST', `${API}/iserver/auth/status`)).json as any;
    assert.deepEqual(status.prompts, []);
    assert.equal('fail' in status || 'established' in status, false);
  });
});

describe('simulated gateway, time', () => {
  test('five minutes without requests end the brokerage session; the login stays valid', async (t) => {
    const sim = await startSim(t);
    await sim.apply({ type: 'advance', by: '4m' });
    assert.equal(
      ((await raw(sim, 'POST', `${API}/iserver/auth/status`)).json as any).authenticated,
      true,
      'a request within the timeout',
    );
    await sim.apply({ type: 'advance', by: '4m' });
    assert.equal(
      ((await raw(sim, 'POST', `${API}/iserver/auth/status`)).json as any).authenticated,
      true,
      'the timer restarts on every request',
    );
    await sim.apply({ type: 'advance', by: '301s' });
    const status = (await raw(sim, 'POST', `${API}/iserver/auth/status`)).json as any;
    assert.deepEqual([status.authenticated, status.connected], [false, false]);
    assert.equal(((await raw(sim, 'GET', `${API}/sso/validate`)).json as any).RESULT, true);
  });

  test('reauthentication: "triggered", not authenticated during the latency, authenticated after it', async (t) => {
    const sim = await startSim(t, { settings: { reauthLatencyMs: 8_000 } });
    await sim.apply({ type: 'drop' });
    assert.deepEqual((await raw(sim, 'POST', `${API}/iserver/reauthenticate`)).json, { message: 'triggered' });
    await sim.apply({ type: 'advance', by: '7s' });
    assert.equal(((await raw(sim, 'POST', `${API}/iserver/auth/status`)).json as any).authenticated, false);
    await sim.apply({ type: 'advance', by: '1s' });
    assert.equal(((await raw(sim, 'POST', `${API}/iserver/auth/status`)).json as any).authenticated, true);
  });

  test('a stuck reauthentication gives up after about 40 s and stays unauthenticated', async (t) => {
    const sim = await startSim(t, { settings: { reauthOutcome: 'fail' } });
    await sim.apply({ type: 'drop' });
    await raw(sim, 'POST', `${API}/iserver/reauthenticate`);
    await sim.apply({ type: 'advance', by: '41s' });
    const status = (await raw(sim, 'POST', `${API}/iserver/auth/status`)).json as any;
    assert.deepEqual([status.authenticated, status.connected], [false, true]);
    assert.equal(sim.model.reauthenticating, false);
  });

  test(
    "the SSO window counts down between the gateway's " + 'own refreshes; the login ends at the session maximum',
    async (t) => {
      const sim = await startSim(t, { settings: { maxSessionMs: 3_600_000 } });
      await sim.apply({ type: 'advance', by: '2m' });
      const expires = ((await raw(sim, 'GET', `${API}/sso/validate`)).json as any).EXPIRES;
      assert.ok(expires <= 480_000 && expires > 470_000, `EXPIRES ${expires}`);
      await sim.apply({ type: 'advance', by: '1h' });
      assert.equal((await raw(sim, 'POST', `${API}/tickle`)).status, 401);
    },
  );
});

describe('simulated gateway, rate limits', () => {
  test(
    'tickle 1/s: the second within a second gets 429 ' + 'and opens a 10-minute penalty box for everything',
    async (t) => {
      const sim = await startSim(t);
      assert.equal((await raw(sim, 'POST', `${API}/tickle`)).status, 200);
      assert.equal((await raw(sim, 'POST', `${API}/tickle`)).status, 429);
      assert.equal(
        (await raw(sim, 'POST', `${API}/iserver/auth/status`)).status,
        429,
        'everything is refused in the box',
      );
      await sim.apply({ type: 'advance', by: '9m' });
      assert.equal((await raw(sim, 'POST', `${API}/iserver/auth/status`)).status, 429, 'still in the box after 9 min');
      await sim.apply({ type: 'advance', by: '61s' });
      assert.equal((await raw(sim, 'POST', `${API}/iserver/auth/status`)).status, 200);
      assert.equal(sim.limiter.violations, 1);
    },
  );

  test('/sso/validate 1/min', async (t) => {
    const sim = await startSim(t);
    assert.equal((await raw(sim, 'GET', `${API}/sso/validate`)).status, 200);
    await sim.apply({ type: 'advance', by: '59s' });
    assert.equal((await raw(sim, 'GET', `${API}/sso/validate`)).status, 429);
  });

  test('10 requests/s overall: the eleventh within a second gets 429', async (t) => {
    const sim = await startSim(t);
    const statuses = [];
    for (let i = 0; i < 11; i += 1) statuses.push((await raw(sim, 'POST', `${API}/iserver/auth/status`)).status);
    // The simulator's clock is real time here; eleven sequential requests take far less than a second.
    assert.deepEqual(statuses.slice(0, 10), Array(10).fill(200));
    assert.equal(statuses[10], 429);
  });
});

describe('simulated gateway, faults', () => {
  test('malformed, empty and unexpected bodies are answered once each, then normal answers again', async (t) => {
    const sim = await startSim(t);
    await sim.apply({ type: 'fault', fault: 'malformed' });
    const malformed = await raw(sim, 'POST', `${API}/iserver/auth/status`);
    assert.equal(malformed.status, 200);
    assert.equal(malformed.json, undefined, 'not JSON');
    await sim.apply({ type: 'fault', fault: 'empty' });
    assert.equal((await raw(sim, 'POST', `${API}/iserver/auth/status`)).text, '');
    await sim.apply({ type: 'fault', fault: 'unexpected-shape' });
    assert.equal(((await raw(sim, 'POST', `${API}/iserver/auth/status`)).json as any).authenticated, 'yes');
    assert.equal(((await raw(sim, 'POST', `${API}/iserver/auth/status`)).json as any).authenticated, true);
  });

  test('truncated and reset answers break the connection; a fault can target one path', async (t) => {
    const sim = await startSim(t);
    await sim.apply({ type: 'fault', fault: 'truncated', path: '/iserver/auth/status' });
    assert.equal(
      ((await raw(sim, 'GET', `${API}/sso/validate`)).json as any).RESULT,
      true,
      'another path is not affected',
    );
    await assert.rejects(raw(sim, 'POST', `${API}/iserver/auth/status`));
    await sim.apply({ type: 'fault', fault: 'reset' });
    await assert.rejects(raw(sim, 'POST', `${API}/iserver/auth/status`));
    assert.deepEqual(
      sim
        .requests()
        .slice(-2)
        .map((r) => r.outcome),
      ['truncated', 'reset'],
    );
  });

  test('slow answers arrive after the delay', async (t) => {
    const sim = await startSim(t);
    await sim.apply({ type: 'fault', fault: 'slow', delay: '400ms' });
    const started = performance.now();
    assert.equal((await raw(sim, 'POST', `${API}/iserver/auth/status`)).status, 200);
    assert.ok(performance.now() - started >= 390);
  });

  test('sso-invalid: /sso/validate answers RESULT:false once while the session works', async (t) => {
    const sim = await startSim(t);
    await sim.apply({ type: 'fault', fault: 'sso-invalid' });
    assert.equal(((await raw(sim, 'POST', `${API}/iserver/auth/status`)).json as any).authenticated, true);
    assert.equal(((await raw(sim, 'GET', `${API}/sso/validate`)).json as any).RESULT, false);
  });

  test('certificate rotation: the gateway presents a new certificate of the same shape', async (t) => {
    const sim = await startSim(t);
    const before = sim.fingerprint256;
    await sim.apply({ type: 'rotate-certificate' });
    assert.notEqual(sim.fingerprint256, before);
    assert.equal(new X509Certificate(sim.certificatePem).subject.split('\n').at(-1), 'CN=Client Portal Web API');
    assert.equal(
      (await raw(sim, 'POST', `${API}/iserver/auth/status`)).status,
      200,
      'the new certificate is accepted by its pin',
    );
    await assert.rejects(
      raw({ url: sim.url, fingerprint256: before }, 'POST', `${API}/iserver/auth/status`),
      /not the pinned/,
      'the old pin no longer is',
    );
  });
});

describe('simulated gateway, certificates', () => {
  test("by default shaped like IBKR's, made fresh at every start; the keeper pins it and is ready", async (t) => {
    const [a, b] = [await startSim(t), await startSim(t)];
    assert.notEqual(a.fingerprint256, b.fingerprint256, 'a new key at every start');
    const cert = new X509Certificate(a.certificatePem);
    assert.equal(cert.subject, cert.issuer);
    assert.equal(cert.subjectAltName, undefined);
    assert.ok(new Date(cert.validTo).getTime() < Date.now(), `expired (${cert.validTo})`);
    assert.equal(cert.publicKey.asymmetricKeyType, 'rsa');
    assert.equal((await checkSession(clientFor(t, a))).state, 'ready');
  });

  test(
    'modernCertificate: valid now, for localhost and ' + '127.0.0.1, and verifiable as a CA by an ordinary client',
    async (t) => {
      const sim = await startSim(t, { modernCertificate: true });
      const cert = new X509Certificate(sim.certificatePem);
      assert.equal(cert.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1');
      assert.ok(new Date(cert.validFrom).getTime() <= Date.now() && Date.now() < new Date(cert.validTo).getTime());
      const https = await import('node:https');
      const status = await new Promise<number>((resolve, reject) => {
        const req = https.request(
          `${sim.url}${API}/iserver/auth/status`,
          { method: 'POST', ca: [sim.certificatePem], agent: false },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
      assert.equal(status, 200);
      await sim.apply({ type: 'rotate-certificate' });
      assert.ok(new X509Certificate(sim.certificatePem).subjectAltName, 'a rotation keeps the kind');
    },
  );

  test(
    'IPv4 only: [::1] is refused; https://localhost ' + 'still reaches it (Node tries 127.0.0.1 after ::1)',
    async (t) => {
      const sim = await startSim(t);
      await assert.rejects(raw({ url: `https://[::1]:${sim.port}`, fingerprint256: sim.fingerprint256 }, 'GET', '/'), {
        code: /^(ECONNREFUSED|EADDRNOTAVAIL)$/,
      });
      const viaLocalhost = await raw(
        { url: `https://localhost:${sim.port}`, fingerprint256: sim.fingerprint256 },
        'POST',
        `${API}/iserver/auth/status`,
      );
      assert.equal((viaLocalhost.json as any).authenticated, true);
    },
  );
});

describe('simulated gateway, routing', () => {
  test(
    'paths outside /v1/api/ and /sso/ redirect to api.ibkr.com, / to the login page; queries dropped, paths ' +
      'normalised',
    async (t) => {
      const sim = await startSim(t);
      const cases: Array<[string, string]> = [
        ['/', '/sso/Login?forwardTo=22&RL=1&ip2loc=US'],
        ['/?a=b', '/sso/Login?forwardTo=22&RL=1&ip2loc=US'],
        ['/x?a=b', 'https://api.ibkr.com/x'],
        ['/v1', 'https://api.ibkr.com/v1'],
        ['/v1/api', 'https://api.ibkr.com/v1/api'],
        ['/v1/portal', 'https://api.ibkr.com/v1/portal'],
        ['/sso', 'https://api.ibkr.com/sso'],
        ['/a/../b', 'https://api.ibkr.com/b'],
      ];
      for (const [path, location] of cases) {
        const a = await raw(sim, 'POST', path, undefined, { keepAlive: true });
        assert.equal(a.status, 302, path);
        assert.deepEqual(a.rawHeaders, ['Location', location, 'Transfer-Encoding', 'chunked'], path);
        assert.equal(a.text, '', path);
      }
      assert.equal(sim.requests().filter((r) => r.status === 302).length, cases.length, 'counted');
    },
  );
});

describe('simulated gateway, IBKR unreachable', () => {
  test(
    'API requests and the login page are accepted and ' + 'never answered; redirects still are; recover ends it',
    async (t) => {
      const sim = await startSim(t);
      await sim.apply({ type: 'unreachable' });
      for (const path of [`${API}/tickle`, '/v1/portal/iserver/auth/status', '/sso/Login']) {
        await assert.rejects(raw(sim, 'POST', path, undefined, { timeoutMs: 500 }), { name: 'AbortError' }, path);
      }
      assert.equal((await raw(sim, 'GET', '/')).status, 302);
      assert.deepEqual(
        sim
          .requests()
          .map((r) => [r.path, r.status, r.outcome])
          .slice(0, 3),
        [
          ['/v1/api/tickle', null, 'unanswered'],
          ['/v1/api/iserver/auth/status', null, 'unanswered'],
          ['/sso/Login', null, 'unanswered'],
        ],
      );
      const client = clientFor(t, sim);
      const down = await checkSession(client);
      assert.equal(down.state, 'gateway-down');
      assert.match(down.reason, /did not answer/);
      await sim.apply({ type: 'recover' });
      assert.equal(((await raw(sim, 'POST', `${API}/iserver/auth/status`)).json as any).authenticated, true);
    },
  );

  test('stop closes the connections it held open', async (t) => {
    const sim = await startSim(t, { unreachable: true });
    const pending = raw(sim, 'POST', `${API}/tickle`, undefined, { timeoutMs: 30_000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await sim.stop();
    await assert.rejects(pending, { code: 'ECONNRESET' });
  });
});
