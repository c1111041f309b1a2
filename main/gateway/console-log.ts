/**
 * The gateway's console (its stdout and stderr) kept in `<config>/gateway/console-<port>.log`: the
 * gateway writes to the file itself (so it keeps a console when the keeper leaves it running),
 * the keeper rotates it (console.log.1, .2) past a size, reads what this run printed (the banner,
 * `Server listen failed`, a Java error) and keeps the last lines for an exit's reason.
 */
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  statSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';

/** Bytes a console log grows to before it is rotated. */
export const CONSOLE_LOG_MAX_BYTES = 1_048_576;
/** Rotated files kept beside it. */
const KEPT = 2;

/** `<config>/gateway/console-<port>.log`: one per gateway (several may run from one config folder). */
export function consoleLogFile(configDir: string, port: number): string {
  return path.join(configDir, 'gateway', `console-${port}.log`);
}

/** Shifts console.log to .1 (and .1 to .2); the oldest is dropped. */
function shift(file: string): void {
  for (let i = KEPT - 1; i >= 1; i -= 1) if (existsSync(`${file}.${i}`)) renameSync(`${file}.${i}`, `${file}.${i + 1}`);
}

/**
 * Opens the console log for a new run of the gateway (appending, rotated first when too large),
 * writes a header line, and returns the file descriptor to hand to the gateway and where its
 * output starts.
 */
export function openConsoleLog(
  file: string,
  header: string,
  maxBytes = CONSOLE_LOG_MAX_BYTES,
): { fd: number; start: number } {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  if (existsSync(file) && statSync(file).size > maxBytes) {
    shift(file);
    renameSync(file, `${file}.1`);
  }
  const fd = openSync(file, 'a', 0o600);
  writeSync(fd, `${header}\n`);
  return { fd, start: statSync(file).size };
}

/**
 * Rotates a console log the running gateway still appends to: copied to .1, then truncated (its
 * writes go on at the new end, as logrotate's copytruncate). Returns true when it rotated.
 */
export function rotateIfLarge(file: string, maxBytes = CONSOLE_LOG_MAX_BYTES): boolean {
  try {
    if (statSync(file).size <= maxBytes) return false;
    shift(file);
    copyFileSync(file, `${file}.1`);
    truncateSync(file, 0);
    return true;
  } catch {
    return false;
  }
}

/** The text of `file` from byte `from` (at most `max` bytes, the last ones); '' when unreadable. */
export function readFrom(file: string, from: number, max = 262_144): string {
  let fd: number | undefined;
  try {
    const size = statSync(file).size;
    const start = Math.max(size < from ? 0 : from, size - max);
    if (size <= start) return '';
    fd = openSync(file, 'r');
    const buffer = Buffer.alloc(size - start);
    const n = readSync(fd, buffer, 0, buffer.length, start);
    return buffer.subarray(0, n).toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The last `n` lines of a text that are not blank (nor a caret under a YAML error). */
export function lastLines(text: string, n = 20): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '' && l.trim() !== '^')
    .slice(-n);
}

/**
 * The line that says why the gateway stopped: `Server listen failed ...`, an exception, a Java
 * error (`Error: Could not find or load main class`, `Unable to find property 'x'`), else the last line
 * unless it is one of a normal start (the banner, `Open https://... to login`, `App demo is available
 * ...`: docs/gateway.md, "Running the gateway"), which says nothing of why it ended.
 */
export function tellingLine(lines: readonly string[]): string | undefined {
  const telling = /Server listen failed|Exception|Error:|^Error|Unable to|Could not|failed|Caused by/;
  const found = [...lines].reverse().find((l) => telling.test(l) && !/^\s*at /.test(l));
  if (found !== undefined) return found;
  const last = lines.at(-1);
  const normalStart = /App demo is available|^Open https?:\/\/|^version: |^Java Version: |-> mount |^\s*[*=#-]{3,}\s*$/;
  return last === undefined || normalStart.test(last.trim()) ? undefined : last;
}

/** The gateway's build from its banner: `version: a27ed42161ad... Mon, 24 Apr 2023 15:41:53 -0400`. */
export function parseBanner(text: string): { build: string; buildDate: string } | undefined {
  const m = /^version: ([0-9a-f]{7,40}) (.+)$/m.exec(text);
  return m ? { build: m[1]!.slice(0, 7), buildDate: m[2]!.trim() } : undefined;
}

/** The Java version the gateway itself reports (`Java Version: 17.0.21.1`). */
export function parseJavaLine(text: string): string | undefined {
  return /^Java Version: (\S+)/m.exec(text)?.[1];
}
