/**
 * Small JSON files in the config folder (trust, pacing, recovery, the lease's state), written
 * atomically (a temporary file renamed over the old one, by `atomically`, as conf and
 * electron-store do, in their format). A file is never reset behind the user's back: one that is
 * not JSON, holds something other than the keeper's object (`[]`, `null`, `42`, a wrong shape),
 * is larger than a state file can be, or is a symbolic link where the keeper writes, gives a
 * one-line error that names it and says what to do, and is left as it is.
 */
import { writeFileSync as atomicWriteFileSync } from 'atomically';
import { lstatSync, readFileSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import type * as z from './zod.ts';
import { UserError } from './errors.ts';
import { withFileLock } from './file-lock.ts';

/** Somewhere a small value is kept: a file in the config folder, or memory. */
export interface Store<T> {
  read(): T;
  write(value: T): void;
  /**
   * Runs a read-change-write step so that no other process (or other store on the same file)
   * changes the value in between. Re-entrant. A store only this process sees may leave it out.
   */
  exclusive?<R>(step: () => R): R;
}

/** Runs `step` under the store's lock, if it has one. */
export function exclusively<T, R>(store: Store<T>, step: () => R): R {
  return store.exclusive === undefined ? step() : store.exclusive(step);
}

/** The largest state file the keeper reads: its own are a few KB at most. */
export const MAX_STATE_FILE_BYTES = 1_048_576;

/** A store that lives as long as the process (tests, the benchmark, the demo). */
export function memoryStore<T>(empty: () => T): Store<T> {
  let value = empty();
  return {
    read: () => structuredClone(value),
    write: (next) => void (value = structuredClone(next)),
    exclusive: (step) => step(),
  };
}

/** A typed view of one file: `read` validates it, `write` replaces it. */
export class JsonStore<T extends Record<string, unknown>> implements Store<T> {
  readonly #schema: z.ZodMiniType<T>;
  readonly #empty: () => T;
  readonly #maxBytes: number;
  /** The file's path, for messages. */
  readonly path: string;
  /** The lock file that `exclusive` takes (beside the file: the file itself is replaced on write). */
  readonly lockPath: string;

  readonly #durable: boolean;

  constructor(options: {
    dir: string;
    name: string;
    schema: z.ZodMiniType<T>;
    empty: () => T;
    maxBytes?: number;
    durable?: boolean;
  }) {
    this.#durable = options.durable ?? true;
    this.path = path.join(options.dir, `${options.name}.json`);
    this.lockPath = path.join(options.dir, `${options.name}.lock`);
    this.#schema = options.schema;
    this.#empty = options.empty;
    this.#maxBytes = options.maxBytes ?? MAX_STATE_FILE_BYTES;
  }

  /** The file's content, or the empty value when there is no file yet. */
  read(): T {
    const raw = readJsonObject(this.path, this.#maxBytes);
    if (raw === undefined || Object.keys(raw).length === 0) return this.#empty();
    const parsed = this.#schema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? ` at "${issue.path.join('.')}"` : '';
      throw new UserError(
        `${this.path} does not hold what the keeper ` +
          `expects${where} (${issue?.message ?? 'invalid'}): fix it or delete the file.`,
      );
    }
    return parsed.data;
  }

  /** Replaces the file's content. */
  write(value: T): void {
    writeJsonFile(this.path, value, { durable: this.#durable });
  }

  exclusive<R>(step: () => R): R {
    return withFileLock(this.lockPath, step);
  }

  /** Reads, changes and writes back in one step, under the file's lock. */
  update(change: (value: T) => T): T {
    return this.exclusive(() => {
      const next = change(this.read());
      this.write(next);
      return next;
    });
  }
}

/**
 * The JSON object in `file`, or undefined when there is no file. Anything else that is there
 * (not JSON, not an object, too large, unreadable) is a UserError naming the file.
 */
export function readJsonObject(file: string, maxBytes = MAX_STATE_FILE_BYTES): Record<string, unknown> | undefined {
  let stats: Stats | undefined;
  try {
    // Through a link, if it is one: reading a file the user linked on purpose does no harm; writes refuse links.
    stats = statSync(file, { throwIfNoEntry: false });
  } catch (error) {
    throw unreadable(file, error);
  }
  if (stats === undefined) return undefined;
  if (!stats.isFile()) throw new UserError(`${file} is not a file: move it away or choose another --config-dir.`);
  if (stats.size > maxBytes) {
    throw new UserError(
      `${file} is ${formatBytes(stats.size)}, more than ` +
        `the ${formatBytes(maxBytes)} a keeper's file can be: it is not one the keeper wrote; move it away or ` +
        `delete it.`,
    );
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw unreadable(file, error);
  }
  if (text.length > maxBytes)
    throw new UserError(
      `${file} is larger than the ${formatBytes(maxBytes)} a keeper's file can be: move it away or delete it.`,
    );
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw unreadable(file, error);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UserError(
      `${file} holds ${describeJson(value)} where the keeper keeps a JSON object: fix it or delete the file.`,
    );
  }
  return value as Record<string, unknown>;
}

/**
 * Writes `value` to `file` atomically (mode 0600), refusing a symbolic link: the keeper writes
 * only its own files, never through a link to somewhere else.
 */
export function writeJsonFile(file: string, value: unknown, options: { durable?: boolean } = {}): void {
  refuseLink(file);
  try {
    // `durable: false` skips the fsync, for a file that only informs and is rewritten every check.
    atomicWriteFileSync(file, `${JSON.stringify(value, undefined, '\t')}\n`, {
      mode: 0o600,
      fsync: options.durable !== false,
    });
  } catch (error) {
    throw new UserError(
      `Could not write ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): check ` +
        `the folder's permissions.`,
    );
  }
}

/** Throws a UserError when `file` is a symbolic link. */
export function refuseLink(file: string): void {
  let link = false;
  try {
    link = lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
  } catch {
    // Not there, or not readable: the write says what is wrong.
  }
  if (link)
    throw new UserError(
      `${file} is a symbolic link: the keeper writes only its own files, never through a link; replace the link ` +
        `with a file, or delete it.`,
    );
}

function unreadable(file: string, error: unknown): UserError {
  const code = (error as NodeJS.ErrnoException).code;
  const why = code ?? (error as Error).message.slice(0, 120);
  return new UserError(`Could not read ${file} (${why}): fix or delete the file, or choose another --config-dir.`);
}

/** `[]` (an array), `null`, `42` (a number), `"x"` (a string): what a person would call it. */
function describeJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  const shown = text.length > 20 ? `${text.slice(0, 17)}...` : text;
  if (value === null) return 'null';
  if (Array.isArray(value)) return `${shown} (a list)`;
  return `${shown} (a ${typeof value})`;
}

function formatBytes(bytes: number): string {
  return bytes >= 1_048_576 ? `${(bytes / 1_048_576).toFixed(1)} MB` : `${Math.ceil(bytes / 1_024)} KB`;
}
