/**
 * Locks between processes, by the operating system: fs-native-extensions takes an open file
 * description lock on Linux (`F_OFD_SETLK`), `flock` on macOS and `LockFileEx` on Windows, from
 * prebuilt N-API binaries (nothing to compile, the same binary in Node and Electron). Such a lock
 * belongs to one open file: it excludes other processes and other opens in this one, and the
 * system drops it when the file is closed or the process ends, however it ends (`kill -9`
 * included). A lock is never stale, so nothing here guesses from times or pids. docs/reliability.md
 * says why this library and not a lock directory (proper-lockfile).
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as NativeLocks from 'fs-native-extensions';
import { UserError } from './errors.ts';

let native: typeof NativeLocks | undefined;

/**
 * The locking library, loaded on first use: a system it has no binary for (musl libc, a rare
 * processor) gets a clear error, naming what to do, where a lock is needed, not a crash at start.
 */
function locks(): typeof NativeLocks {
  if (native !== undefined) return native;
  // This file runs as an ES module (desktop, tests) and inside the command line's CommonJS bundle.
  const here = typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
  try {
    native = createRequire(here)('fs-native-extensions') as typeof NativeLocks;
  } catch (error) {
    throw new UserError(
      `File locks are not available on this system ` +
        `(${process.platform}-${process.arch}: ${(error as Error).message.split('\n')[0]}); run the keeper on ` +
        `Linux (glibc), macOS or Windows, x64 or arm64.`,
      1,
    );
  }
  return native;
}

/** A lock this process holds until `release` (or until it ends). */
export class HeldLock {
  readonly path: string;
  #fd: number | undefined;

  private constructor(file: string, fd: number) {
    this.path = file;
    this.#fd = fd;
  }

  /** Takes the lock on `file` (created if missing) if nobody holds it; undefined if somebody does. */
  static tryAcquire(file: string): HeldLock | undefined {
    const fd = openLockFile(file);
    let granted = false;
    try {
      granted = locks().tryLock(fd);
    } finally {
      if (!granted) closeSync(fd);
    }
    return granted ? new HeldLock(file, fd) : undefined;
  }

  get held(): boolean {
    return this.#fd !== undefined;
  }

  /** Lets go of the lock (closing the file is what releases it everywhere). */
  release(): void {
    if (this.#fd === undefined) return;
    const fd = this.#fd;
    this.#fd = undefined;
    try {
      locks().unlock(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/** How deep this process is inside `withFileLock` for each lock file: the lock is taken once. */
const depth = new Map<string, number>();
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Runs `critical` while holding the lock on `file`, waiting for it up to `timeoutMs`. For short,
 * synchronous read-change-write steps (the pacing ledger): the wait blocks the thread, in steps of
 * a few milliseconds, since the steps it waits for take about as long. Re-entrant in one process.
 */
export function withFileLock<T>(file: string, critical: () => T, timeoutMs = 10_000): T {
  const inside = depth.get(file) ?? 0;
  if (inside > 0) {
    depth.set(file, inside + 1);
    try {
      return critical();
    } finally {
      depth.set(file, inside);
    }
  }
  const deadline = performance.now() + timeoutMs;
  let lock = HeldLock.tryAcquire(file);
  for (let wait = 1; lock === undefined; wait = Math.min(wait * 2, 20)) {
    if (performance.now() > deadline) {
      throw new UserError(
        `${file} stayed locked by another process ` +
          `for ${Math.round(timeoutMs / 1_000)} s: another ibkr-keeper or the desktop app is stuck; stop it, ` +
          `then try again.`,
      );
    }
    Atomics.wait(pause, 0, 0, wait);
    lock = HeldLock.tryAcquire(file);
  }
  depth.set(file, 1);
  try {
    return critical();
  } finally {
    depth.delete(file);
    lock.release();
  }
}

function openLockFile(file: string): number {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    // Read and write: an exclusive lock needs a file open for writing (Windows, Linux OFD locks).
    return openSync(file, 'a+', 0o600);
  } catch (error) {
    throw new UserError(
      `Could not open the lock file ${file} ` +
        `(${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): check the config folder's ` +
        `permissions.`,
    );
  }
}
