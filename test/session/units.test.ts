/** The engine's small pure parts: URL parsing, fingerprints, loopback, redaction, pacing, classify. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classify } from '../../main/session/classify.ts';
import type { KeeperStatus } from '../../main/session/keeper.ts';
import { NotificationPolicy } from '../../main/session/notifications.ts';
import type { SessionState } from '../../main/session/states.ts';
import { parseGatewayUrl } from '../../main/session/gateway-client.ts';
import { memoryLedger, Pacer, PACING } from '../../main/session/pacing.ts';
import { redactBody, redactSessionId } from '../../main/session/redact.ts';
import { STATE_INFO, SESSION_STATES } from '../../main/session/states.ts';
import {
  IBKR_STOCK_CERTIFICATE,
  isLoopbackHost,
  normalizeFingerprint,
  publiclyKnownNotice,
} from '../../main/session/tls.ts';
import { localTimestamp } from '../../main/session/time.ts';

describe('gateway URLs', () => {
  test('accepts the address with or without /v1/api or /v1/portal', () => {
    for (const input of [
      'https://localhost:5000',
      'https://localhost:5000/',
      'https://localhost:5000/v1/api',
      'https://localhost:5000/v1/portal/',
    ]) {
      const a = parseGatewayUrl(input);
      assert.equal(a.origin, 'https://localhost:5000');
      assert.equal(a.apiBase, 'https://localhost:5000/v1/api');
      assert.equal(a.loopback, true);
    }
    assert.equal(parseGatewayUrl('https://gw.example.com').port, 443);
    assert.equal(parseGatewayUrl('https://gw.example.com').loopback, false);
  });

  test('refuses what is not a gateway address, saying what to give', () => {
    assert.throws(() => parseGatewayUrl('localhost:5000'), /does not use https/);
    assert.throws(
      () => parseGatewayUrl('not a url'),
      /is not a URL: give the gateway's address, e\.g\. https:\/\/localhost:5000/,
    );
    assert.throws(() => parseGatewayUrl('http://localhost:5000'), /only speaks HTTPS/);
    assert.throws(() => parseGatewayUrl('https://localhost:5000/v1/api/tickle'), /has the path/);
    assert.throws(() => parseGatewayUrl('https://user:pw@localhost:5000'), /credentials/);
  });
});

describe('fingerprints and hosts', () => {
  const canonical = `AB:${'01:'.repeat(30)}CD`;
  test('a fingerprint is accepted in any case, with or without colons or a sha256 prefix', () => {
    for (const input of [
      canonical,
      canonical.toLowerCase(),
      canonical.replaceAll(':', ''),
      `sha256/${canonical}`,
      ` SHA256:${canonical.replaceAll(':', '')} `,
    ]) {
      assert.equal(normalizeFingerprint(input), canonical);
    }
    assert.throws(() => normalizeFingerprint('AB:CD'), /not a SHA-256 fingerprint: expected 64 hexadecimal digits/);
  });

  test('only loopback hosts are trusted on first use', () => {
    for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]', 'api.localhost'])
      assert.equal(isLoopbackHost(host), true, host);
    for (const host of ['10.0.0.1', '192.168.1.5', 'gw.example.com', '128.0.0.1', '::2'])
      assert.equal(isLoopbackHost(host), false, host);
  });

  test("the stock certificate's note names the gateway's folder when it is known, ready to paste", () => {
    const tail = (dir?: string | null) => publiclyKnownNotice(IBKR_STOCK_CERTIFICATE, dir)?.split(': ').at(-1);
    assert.equal(tail(), 'ibkr-keeper gateway certificate --dir GATEWAY_FOLDER.');
    assert.equal(tail(null), 'ibkr-keeper gateway certificate --dir GATEWAY_FOLDER.');
    assert.equal(tail('/opt/clientportal.gw'), 'ibkr-keeper gateway certificate --dir /opt/clientportal.gw.');
    assert.equal(tail("/home/me/IBKR's gw"), "ibkr-keeper gateway certificate --dir '/home/me/IBKR'\\''s gw'.");
    assert.equal(publiclyKnownNotice(canonical, '/opt/gw'), undefined, 'not the stock certificate: no note');
  });

  test('session ids are redacted wherever they sit', () => {
    const id = 'bb665d0f55b6289d70bc7380089fc96f';
    assert.equal(redactSessionId(id), 'bb66…c96f');
    const body = JSON.stringify(redactBody({ session: id, nested: [{ session: id }], topic: 'tic', id }));
    assert.ok(!body.includes(id));
  });
});

describe('pacing', () => {
  test('tickles wait for the gap, validate is refused within a minute, a 429 refuses all for 10 min', () => {
    let now = 1_000_000;
    const pacer = new Pacer(memoryLedger(), 'https://localhost:5000', () => now);
    assert.deepEqual(pacer.decide('tickle'), { action: 'send' });
    pacer.recordSent('tickle');
    assert.deepEqual(pacer.decide('tickle'), { action: 'wait', ms: PACING.tickleGapMs });
    pacer.recordSent('validate');
    now += 30_000;
    assert.deepEqual(pacer.decide('validate'), {
      action: 'refuse',
      reason: 'too-soon',
      retryAfterMs: PACING.validateGapMs - 30_000,
    });
    pacer.recordRateLimited();
    now += 1_000;
    assert.deepEqual(pacer.decide('authStatus'), {
      action: 'refuse',
      reason: 'penalty',
      retryAfterMs: PACING.penaltyMs - 1_000,
    });
    now += PACING.penaltyMs;
    assert.deepEqual(pacer.decide('authStatus'), { action: 'send' });
  });

  test('gaps count from the answer: a request that arrived late cannot crowd the next one', () => {
    let now = 1_000_000;
    const pacer = new Pacer(memoryLedger(), 'o', () => now);
    const sentAt = pacer.recordSent('tickle');
    now += 800; // the answer takes 0.8 s: the gateway may have counted the request at any moment of it
    pacer.recordDone('tickle', sentAt);
    assert.deepEqual(pacer.decide('tickle'), { action: 'wait', ms: PACING.tickleGapMs }, 'a full gap after the answer');
    for (let i = 1; i < PACING.perSecond; i += 1) pacer.recordDone('authStatus', pacer.recordSent('authStatus'));
    now += 999;
    assert.deepEqual(
      pacer.decide('authStatus'),
      { action: 'wait', ms: 1 },
      "the budget's second counts from the answer too",
    );
  });

  test('no more than the per-second budget, and a clock set back waits the full gap', () => {
    let now = 5_000;
    const pacer = new Pacer(memoryLedger(), 'o', () => now);
    for (let i = 0; i < PACING.perSecond; i += 1) pacer.recordSent('authStatus');
    assert.equal(pacer.decide('authStatus').action, 'wait');
    pacer.recordSent('tickle');
    now -= 3_600_000;
    assert.deepEqual(
      pacer.decide('tickle'),
      { action: 'wait', ms: PACING.tickleGapMs },
      'an hour back waits one gap, not an hour',
    );
    now += PACING.tickleGapMs;
    assert.deepEqual(pacer.decide('tickle'), { action: 'send' });
    pacer.recordRateLimited();
    now -= 3_600_000;
    assert.deepEqual(pacer.decide('tickle'), { action: 'refuse', reason: 'penalty', retryAfterMs: PACING.penaltyMs });
  });
});

describe('state table', () => {
  test('every state has a colour and a distinct exit code, 0 only for ready', () => {
    for (const state of SESSION_STATES) assert.ok(STATE_INFO[state].colour, state);
    assert.equal(STATE_INFO.ready.exitCode, 0);
    const codes = SESSION_STATES.filter((s) => s !== 'ready').map((s) => STATE_INFO[s].exitCode);
    assert.ok(!codes.includes(0));
  });

  test('a redirect is gateway-down and names where it pointed; it is never followed', () => {
    const result = classify(
      {
        tickle: {
          kind: 'http-error',
          endpoint: 'tickle',
          latencyMs: 1,
          status: 302,
          text: '',
          location: 'https://api.ibkr.com/x',
        },
      },
      'https://localhost:5000',
    );
    assert.equal(result.state, 'gateway-down');
    assert.match(
      result.reason,
      /redirected the request to https:\/\/api\.ibkr\.com\/x \(HTTP 302\).*check the address/,
    );
  });

  test('401 "not authenticated" is login-required only when /sso/validate says so', () => {
    const origin = 'https://localhost:5000';
    const authStatus = {
      kind: 'gateway-error',
      endpoint: 'authStatus',
      latencyMs: 1,
      status: 401,
      error: 'not authenticated',
    } as const;
    const alone = classify({ authStatus }, origin);
    assert.equal(alone.askValidate, true);
    const valid = classify(
      {
        authStatus,
        validate: { kind: 'answer', endpoint: 'validate', latencyMs: 1, status: 200, body: { RESULT: true } },
      },
      origin,
    );
    assert.equal(valid.state, 'not-authenticated');
    assert.match(valid.reason, /login itself is still valid/);
    const ended = classify(
      { authStatus, validate: { kind: 'http-error', endpoint: 'validate', latencyMs: 1, status: 401, text: '' } },
      origin,
    );
    assert.equal(ended.state, 'login-required');
    assert.match(ended.reason, /Nobody is logged in/);
    assert.equal(ended.askValidate, undefined);
    const plain = classify(
      { authStatus: { kind: 'http-error', endpoint: 'authStatus', latencyMs: 1, status: 401, text: '' } },
      origin,
    );
    assert.equal(plain.state, 'login-required', 'a plain 401 is what the gateway answers when nobody is logged in');
  });

  test('classify with nothing asked says so instead of guessing', () => {
    const result = classify({}, 'https://localhost:5000');
    assert.equal(result.unclear, true);
  });
});

describe('notification policy', () => {
  const status = (state: SessionState, reason = 'why'): KeeperStatus => ({
    gateway: 'https://localhost:5000',
    state,
    previous: null,
    reason,
    facts: {},
    since: '',
    lastTickleAt: null,
    nextCheckAt: null,
    reauthAttempts: 0,
  });
  const run = (policy: NotificationPolicy, steps: Array<[number, SessionState]>): string[] =>
    steps.flatMap(([at, state]) => policy.update(status(state), at).map((n) => n.kind));

  test('nothing on a clean start; a drop and its recovery once each; flapping does not spam', () => {
    const policy = new NotificationPolicy();
    const seen = run(policy, [
      [0, 'starting'],
      [1, 'ready'],
      [60_000, 'not-authenticated'],
      [61_000, 'reauthenticating'],
      [65_000, 'ready'],
      [120_000, 'not-authenticated'],
      [125_000, 'ready'],
      [180_000, 'not-authenticated'],
      [185_000, 'ready'],
    ]);
    assert.deepEqual(seen, ['drop', 'recovery']);
  });

  test('gateway down is said only after a minute down; a changed certificate always', () => {
    const policy = new NotificationPolicy();
    assert.deepEqual(
      run(policy, [
        [0, 'ready'],
        [10_000, 'gateway-down'],
        [30_000, 'gateway-down'],
        [15_000 + 60_000, 'gateway-down'],
        [80_000, 'ready'],
      ]),
      ['gateway-down', 'recovery'],
    );
    assert.deepEqual(
      run(policy, [
        [90_000, 'untrusted-certificate'],
        [91_000, 'ready'],
        [92_000, 'untrusted-certificate'],
      ]),
      ['certificate-changed', 'certificate-changed'],
      'the recovery within 10 min of the last one is not repeated',
    );
  });

  test('a brief outage never notifies, and a kind the user turned off is not shown', () => {
    const policy = new NotificationPolicy({ disabled: ['competing'] });
    assert.deepEqual(
      run(policy, [
        [0, 'ready'],
        [10_000, 'gateway-down'],
        [20_000, 'ready'],
        [30_000, 'competing'],
      ]),
      [],
    );
  });
});

describe('history file', () => {
  test('appends, reads since a time, rotates past its size, and skips a damaged line', async (t) => {
    const { History } = await import('../../main/session/history.ts');
    const { tempDir } = await import('../helpers.ts');
    const { appendFileSync, existsSync } = await import('node:fs');
    const dir = tempDir(t);
    const history = new History(dir, { maxBytes: 600 });
    const at = (h: number): string => new Date(Date.UTC(2026, 10, 28, h)).toISOString();
    for (let h = 0; h < 6; h += 1)
      history.append({
        time: at(h),
        state: h % 2 ? 'ready' : 'gateway-down',
        previous: null,
        reason: `change ${h}`,
        facts: { session: 'bb665d0f55b6289d70bc7380089fc96f' },
      });
    assert.ok(existsSync(`${dir}/history.1.jsonl`), 'rotated');
    const all = history.read();
    assert.ok(all.transitions.length >= 3 && all.transitions.length <= 6);
    assert.deepEqual(
      all.transitions.map((x) => x.reason).slice(-2),
      ['change 4', 'change 5'],
      'oldest first, newest last',
    );
    assert.ok(!JSON.stringify(all).includes('bb665d0f55b6289d70bc7380089fc96f'), 'redacted on disk');
    assert.deepEqual(
      history.read(Date.parse(at(5))).transitions.map((x) => x.reason),
      ['change 5'],
    );
    appendFileSync(history.file, '{ not json\n');
    assert.equal(history.read().skipped, 1, 'a damaged line is skipped, counted, and the rest still read');
  });
});

describe('times people read', () => {
  test("a line's time is the local wall time, year first, 24-hour, to the second", (t) => {
    const saved = process.env['TZ'];
    t.after(() => {
      if (saved === undefined) delete process.env['TZ'];
      else process.env['TZ'] = saved;
    });
    process.env['TZ'] = 'UTC';
    assert.equal(localTimestamp('2026-11-28T09:05:03.250Z'), '2026-11-28 09:05:03');
    process.env['TZ'] = 'Asia/Tokyo';
    assert.equal(localTimestamp('2026-11-28T21:05:03Z'), '2026-11-29 06:05:03', 'the date moves with the zone');
    process.env['TZ'] = 'America/New_York';
    assert.equal(localTimestamp(Date.parse('2026-07-01T16:00:00Z')), '2026-07-01 12:00:00', 'summer time applies');
  });
});
