/** Durations as people write them, for the simulator's events and the CLI's options. */
import * as z from './zod.ts';

/** A duration: milliseconds, or a string such as `500ms`, `30s`, `5m`, `1h`. */
export const duration = z.union([
  z.int().check(z.nonnegative()),
  z.pipe(
    z
      .string()
      .check(
        z.regex(
          /^\d+(\.\d+)?(ms|s|m|h)$/,
          'expected a number of milliseconds or a duration such as "30s", "5m" or "1h"',
        ),
      ),
    z.transform((text: string) => {
      const [, value, unit] = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text)!;
      return Math.round(Number(value) * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h']);
    }),
  ),
]);
