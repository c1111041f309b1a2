/**
 * Small JSON files in the config directory, stored with `conf` (atomic writes, the same format the
 * desktop app's electron-store uses). A file that a person broke gives a clear error naming it,
 * and is never cleared behind their back.
 */
import Conf from 'conf';
import path from 'node:path';
import type * as z from './zod.ts';
import { UserError } from './errors.ts';

/** Somewhere a small value is kept: a file in the config folder, or memory. */
export interface Store<T> {
  read(): T;
  write(value: T): void;
}

/** A store that lives as long as the process (tests, the benchmark, the demo). */
export function memoryStore<T>(empty: () => T): Store<T> {
  let value = empty();
  return { read: () => structuredClone(value), write: (next) => void (value = structuredClone(next)) };
}

/** A typed view of one file: `read` validates it, `write` replaces it. */
export class JsonStore<T extends Record<string, unknown>> implements Store<T> {
  #conf: Conf<Record<string, unknown>> | undefined;
  readonly #options: { dir: string; name: string };
  readonly #schema: z.ZodMiniType<T>;
  readonly #empty: () => T;
  /** The file's path, for messages. */
  readonly path: string;

  /** Opens nothing yet: a damaged file is an error of the read or write that meets it, not of start-up. */
  constructor(options: { dir: string; name: string; schema: z.ZodMiniType<T>; empty: () => T }) {
    this.path = path.join(options.dir, `${options.name}.json`);
    this.#options = options;
    this.#schema = options.schema;
    this.#empty = options.empty;
  }

  /** conf reads the file when it is made, so it is made at the first use. */
  #open(): Conf<Record<string, unknown>> {
    try {
      this.#conf ??= new Conf({
        cwd: this.#options.dir,
        configName: this.#options.name,
        accessPropertiesByDotNotation: false,
        clearInvalidConfig: false,
        configFileMode: 0o600,
      });
      return this.#conf;
    } catch (error) {
      throw this.#unreadable(error);
    }
  }

  /** The file's content, or the empty value when there is no file yet. */
  read(): T {
    let raw: unknown;
    try {
      raw = this.#open().store;
    } catch (error) {
      throw error instanceof UserError ? error : this.#unreadable(error);
    }
    if (raw === undefined || Object.keys(raw as object).length === 0) return this.#empty();
    const parsed = this.#schema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? ` at "${issue.path.join('.')}"` : '';
      throw new UserError(
        `${this.path} does not hold what the keeper expects${where} (${issue?.message ?? 'invalid'}): fix it or delete the file.`,
      );
    }
    return parsed.data;
  }

  /** Replaces the file's content. */
  write(value: T): void {
    const conf = this.#open();
    try {
      conf.store = value;
    } catch (error) {
      throw new UserError(`Could not write ${this.path} (${(error as Error).message}): check the folder's permissions.`);
    }
  }

  /** Reads, changes and writes back in one step. */
  update(change: (value: T) => T): T {
    const next = change(this.read());
    this.write(next);
    return next;
  }

  #unreadable(error: unknown): UserError {
    return new UserError(
      `Could not read ${this.path} (${(error as Error).message}): fix or delete the file, or choose another --config-dir.`,
    );
  }
}
