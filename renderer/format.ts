/**
 * Pure helpers of the window: durations, times and the 24-hour timeline, computed from what the
 * main process sends. No DOM here, so they are tested in plain Node (test/renderer/format.test.ts).
 */
import type { Transition } from '../main/session/keeper.ts';
import type { SessionState } from '../main/session/states.ts';

export const DAY_MS = 86_400_000;

/** "42 s", "9 min 57 s", "2 h 5 min". */
export function span(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1_000));
  if (s < 60) return `${s} s`;
  if (s < 3_600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3_600)} h ${Math.floor((s % 3_600) / 60)} min`;
}

/** "3 s ago", or "—" when it never happened. */
export function ago(iso: string | null, now: number): string {
  return iso === null ? '—' : `${span(now - Date.parse(iso))} ago`;
}

/** A time of the last day: the hour alone today, with the date before. */
export function when(iso: string, now: number, locale?: string): string {
  const t = new Date(iso);
  const sameDay = t.toDateString() === new Date(now).toDateString();
  return sameDay
    ? t.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : t.toLocaleString(locale, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** One stretch of the timeline: a state from `from` to `to` (ms since the epoch). */
export interface Segment {
  readonly state: SessionState;
  readonly from: number;
  readonly to: number;
}

/**
 * The last 24 hours as stretches of one state each, oldest first: from the recorded changes and
 * the state now (its `since`), clipped to the day. Before the first known change, nothing.
 */
export function timeline(
  history: readonly Transition[],
  current: { state: SessionState; since: string },
  now: number,
): Segment[] {
  const start = now - DAY_MS;
  const points = history.map((t) => ({ at: Date.parse(t.time), state: t.state })).filter((p) => Number.isFinite(p.at));
  const since = Date.parse(current.since);
  const last = points.at(-1);
  if (last === undefined || last.state !== current.state || (Number.isFinite(since) && since > last.at)) {
    points.push({ at: Number.isFinite(since) ? since : now, state: current.state });
  }
  points.sort((a, b) => a.at - b.at);
  const segments: Segment[] = [];
  points.forEach((p, i) => {
    const from = Math.max(start, p.at);
    const to = Math.min(now, points[i + 1]?.at ?? now);
    if (to <= from) return;
    const previous = segments.at(-1);
    if (previous && previous.state === p.state && previous.to === from)
      segments[segments.length - 1] = { ...previous, to };
    else segments.push({ state: p.state, from, to });
  });
  return segments;
}

/** The timeline in words, for screen readers: the time spent in each state, longest first. */
export function timelineSummary(segments: readonly Segment[], title: (state: SessionState) => string): string {
  if (segments.length === 0) return 'Nothing recorded yet.';
  const totals = new Map<SessionState, number>();
  for (const s of segments) totals.set(s.state, (totals.get(s.state) ?? 0) + s.to - s.from);
  return (
    [...totals]
      .sort((a, b) => b[1] - a[1])
      .map(([state, ms]) => `${title(state)} ${span(ms)}`)
      .join(', ') + '.'
  );
}
