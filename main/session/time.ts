/**
 * Time as a parameter: the keeper reads a clock and sets timers through a scheduler, so a test or
 * the benchmark can run a simulated day in seconds, and a suspended laptop can be imitated.
 */

/** Two clocks: the wall (epoch ms, jumps with suspend and clock changes) and a monotonic one. */
export interface Clock {
  /** Epoch milliseconds, as `Date.now()`. */
  wall(): number;
  /** Milliseconds that never go back and stand still while the computer sleeps. */
  monotonic(): number;
}

/** A timer that can be cancelled. */
export interface Timer {
  cancel(): void;
}

/** Runs a callback after a delay (monotonic). A callback's promise is awaited by virtual time. */
export interface Scheduler {
  after(ms: number, run: () => Promise<void> | void): Timer;
}

export const realClock: Clock = {
  wall: () => Date.now(),
  monotonic: () => performance.now(),
};

export const realScheduler: Scheduler = {
  after(ms, run) {
    const timer = setTimeout(() => void run(), Math.max(0, ms));
    return { cancel: () => clearTimeout(timer) };
  },
};

/**
 * `2026-11-28 09:05:03` in local time. Built from Date's getters rather than `toLocaleString`,
 * which pages in several MB of ICU data and would be the largest memory cost of `watch`.
 */
export function localTimestamp(time: number | string): string {
  const d = new Date(time);
  const two = (n: number): string => String(n).padStart(2, '0');
  const date = `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
  return `${date} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}
