/**
 * IBKR's allow list rules (main/gateway/allow-list.ts), as checked against the real gateway
 * (docs/gateway.md, "The allow list (ips)").
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decide, parsePattern, patternMatches, patternProblems } from '../../main/gateway/allow-list.ts';

const lists = (allow: string[] | null, deny: string[] | null = []) => ({ allow, deny });

describe('the allow list', () => {
  test('a pattern is an exact IPv4 address or a.*, a.b.*, a.b.c.*', () => {
    for (const pattern of ['127.*', '127.0.*', '127.0.0.*', '127.0.0.1'])
      assert.equal(patternMatches(pattern, '127.0.0.1'), true, pattern);
    assert.equal(patternMatches('127.0.0.2', '127.0.0.1'), false);
    assert.equal(patternMatches('127.1.*', '127.0.0.1'), false);
    assert.equal(patternMatches('12.*', '127.0.0.1'), false, 'a prefix is whole parts, not text');
    assert.equal(patternMatches('127.0.0.01', '127.0.0.1'), false, 'an exact address is compared as written');
    assert.equal(patternMatches('192.168.1.*', '192.168.1.254'), true);
  });

  test('no CIDR, no host names, no IPv6, no lone *: they match nothing', () => {
    for (const pattern of [
      '0.0.0.0/0',
      '127.0.0.0/8',
      'localhost',
      'host.docker.internal',
      '::1',
      '*',
      '*.*.*.*',
      '127.*.*',
      '',
    ]) {
      assert.equal(patternMatches(pattern, '127.0.0.1'), false, pattern);
      assert.notEqual(parsePattern(pattern).kind === 'exact' || parsePattern(pattern).kind === 'prefix', true, pattern);
    }
    assert.equal(parsePattern('*').kind, 'broken');
    assert.match((parsePattern('0.0.0.0/0') as { why: string }).why, /CIDR/);
    assert.match((parsePattern('localhost') as { why: string }).why, /host names/);
    assert.match((parsePattern('::1') as { why: string }).why, /IPv6/);
  });

  test('deny is checked first; then allow must match', () => {
    assert.deepEqual(decide('127.0.0.1', lists(['127.0.0.1'], ['127.0.0.1'])), {
      admitted: false,
      why: 'denied',
      pattern: '127.0.0.1',
    });
    assert.deepEqual(decide('127.0.0.1', lists(['127.0.0.1'], ['127.*'])), {
      admitted: false,
      why: 'denied',
      pattern: '127.*',
    });
    assert.deepEqual(decide('127.0.0.1', lists(['10.*', '127.0.*'], ['212.90.324.10'])), {
      admitted: true,
      why: 'allowed',
      pattern: '127.0.*',
    });
    assert.deepEqual(decide('127.0.0.1', lists(['0.0.0.0/0', 'localhost'])), { admitted: false, why: 'not-allowed' });
    assert.deepEqual(decide('127.0.0.1', lists([])), { admitted: false, why: 'not-allowed' });
  });

  test('a missing allow or deny list admits every address', () => {
    assert.deepEqual(decide('127.0.0.1', lists(null, ['127.0.0.1'])), {
      admitted: true,
      why: 'no-lists',
      missing: 'allow',
    });
    assert.deepEqual(decide('10.1.2.3', lists(['10.0.0.1'], null)), {
      admitted: true,
      why: 'no-lists',
      missing: 'deny',
    });
  });

  test('* alone breaks every request it is reached for', () => {
    assert.deepEqual(decide('127.0.0.1', lists(['*'])), { admitted: false, why: 'broken', pattern: '*' });
    assert.deepEqual(decide('127.0.0.1', lists(['127.0.0.1', '*'])), {
      admitted: true,
      why: 'allowed',
      pattern: '127.0.0.1',
    });
  });

  test('the patterns the gateway cannot use are named, with why', () => {
    const problems = patternProblems(lists(['127.0.0.1', 'localhost', '0.0.0.0/0'], ['localhost']));
    assert.deepEqual(
      problems.map((p) => `${p.list}:${p.pattern}`),
      ['deny:localhost', 'allow:localhost', 'allow:0.0.0.0/0'],
    );
    assert.deepEqual(patternProblems(lists(['192.*', '131.216.*', '127.0.0.1', '10.0.0.*'], ['212.90.324.10'])), []);
  });
});
