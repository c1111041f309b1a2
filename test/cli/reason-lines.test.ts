/**
 * Which reasons `watch` prints within a state (main/cli/reason-lines.ts): a new one at once, a
 * flapping one at most once a minute, the latest held-back one later, never a repeat.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KeeperStatus } from '../../main/session/keeper.ts';
import { REASON_LINE_GAP_MS, ReasonLines } from '../../main/cli/reason-lines.ts';

const status = (state: KeeperStatus['state'], reason: string): KeeperStatus => ({
  gateway: 'https://localhost:5000',
  state,
  previous: 'ready',
  reason,
  facts: {},
  since: '2026-11-29T10:00:00.000Z',
  lastTickleAt: null,
  nextCheckAt: null,
  reauthAttempts: 0,
});

test('a new reason in the same state is a line; the same reason again, or another state, is not', () => {
  const lines = new ReasonLines();
  lines.printed({ state: 'gateway-down', reason: 'refused' });
  assert.equal(lines.update(status('gateway-down', 'refused'), 0, 0), undefined, 'nothing new');
  const line = lines.update(status('gateway-down', 'Access Denied'), Date.parse('2026-11-29T10:01:00Z'), 1_000);
  assert.deepEqual(line && { state: line.state, previous: line.previous, reason: line.reason, time: line.time }, {
    state: 'gateway-down',
    previous: 'ready',
    reason: 'Access Denied',
    time: '2026-11-29T10:01:00.000Z',
  });
  assert.equal(lines.update(status('gateway-down', 'Access Denied'), 0, 2_000), undefined, 'said once');
  assert.equal(
    lines.update(status('login-required', 'log in'), 0, 100_000),
    undefined,
    'a new state is a transition, printed as such',
  );
});

test('a reason that flaps at every check of an hour makes at most one line a minute', () => {
  const lines = new ReasonLines();
  lines.printed({ state: 'gateway-down', reason: 'A' });
  let printed = 0;
  for (let second = 1; second <= 3_600; second += 1) {
    if (lines.update(status('gateway-down', second % 2 === 0 ? 'A' : 'B'), 0, second * 1_000)) printed += 1;
  }
  assert.ok(printed <= 3_600_000 / REASON_LINE_GAP_MS + 1, `${printed} lines in an hour`);
  assert.ok(printed >= 30, 'yet the changes are still said');
});

test('a reason held back within the minute is said at a later check if it still stands', () => {
  const lines = new ReasonLines();
  lines.printed({ state: 'not-authenticated', reason: 'dropped' });
  assert.ok(lines.update(status('not-authenticated', 'dropped. The gateway says X'), 0, 1_000));
  assert.equal(lines.update(status('not-authenticated', 'dropped. The keeper stopped'), 0, 5_000), undefined);
  const later = lines.update(status('not-authenticated', 'dropped. The keeper stopped'), 0, 61_000);
  assert.equal(later?.reason, 'dropped. The keeper stopped');
});
