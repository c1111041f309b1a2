/** The window's pure helpers: durations and the 24-hour timeline (drawn with CSS from these stretches). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Transition } from '../../main/session/keeper.ts';
import type { SessionState } from '../../main/session/states.ts';
import { DAY_MS, span, timeline, timelineSummary } from '../../renderer/format.ts';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const H = 3_600_000;
const change = (hoursAgo: number, state: SessionState): Transition => ({
  time: new Date(NOW - hoursAgo * H).toISOString(),
  state,
  previous: null,
  reason: '',
  facts: {},
});

describe('window helpers', () => {
  test('durations read as a person says them', () => {
    assert.deepEqual(
      [span(0), span(42_400), span(597_000), span(2 * H + 5 * 60_000), span(-5)],
      ['0 s', '42 s', '9 min 57 s', '2 h 5 min', '0 s'],
    );
  });

  test('the timeline: one stretch per state, cut at 24 hours ago and now, the current state to the end', () => {
    const history = [change(30, 'ready'), change(10, 'competing'), change(9, 'ready')];
    const segments = timeline(history, { state: 'ready', since: history[2]!.time }, NOW);
    assert.deepEqual(
      segments.map((s) => [s.state, (s.to - s.from) / H]),
      [
        ['ready', 14],
        ['competing', 1],
        ['ready', 9],
      ],
    );
    assert.equal(segments[0]!.from, NOW - DAY_MS, 'what came before the day is cut');
    assert.equal(segments.at(-1)!.to, NOW);
  });

  test('a state the history has not recorded yet (starting) is drawn from its `since`', () => {
    const segments = timeline([change(5, 'ready')], { state: 'paused', since: new Date(NOW - H).toISOString() }, NOW);
    assert.deepEqual(
      segments.map((s) => [s.state, (s.to - s.from) / H]),
      [
        ['ready', 4],
        ['paused', 1],
      ],
    );
    assert.deepEqual(
      timeline([], { state: 'starting', since: new Date(NOW - 2_000).toISOString() }, NOW).map((s) => s.state),
      ['starting'],
    );
  });

  test('repeated records of one state make one stretch; the summary says the time in each state', () => {
    const segments = timeline(
      [change(6, 'ready'), change(4, 'ready'), change(2, 'gateway-down')],
      { state: 'gateway-down', since: new Date(NOW - 2 * H).toISOString() },
      NOW,
    );
    assert.equal(segments.length, 2);
    assert.equal(
      timelineSummary(segments, (s) => s),
      'ready 4 h 0 min, gateway-down 2 h 0 min.',
    );
    assert.equal(
      timelineSummary([], (s) => s),
      'Nothing recorded yet.',
    );
  });
});
