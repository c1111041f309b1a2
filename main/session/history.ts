/**
 * The transition history: JSON lines in `history.jsonl` of the config folder, redacted, rotated
 * to `history.1.jsonl` past a size so it stays bounded. It feeds `ibkr-keeper history` and the
 * details window's timeline.
 */
import {
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import * as z from './zod.ts';
import type { Transition } from './keeper.ts';
import { UserError } from './errors.ts';
import { refuseLink } from './json-store.ts';
import { redactBody } from './redact.ts';
import { SESSION_STATES } from './states.ts';

const transitionSchema = z.object({
  time: z.string(),
  state: z.enum(SESSION_STATES),
  previous: z.nullable(z.enum(SESSION_STATES)),
  reason: z.string(),
  facts: z.record(z.string(), z.unknown()),
  gateway: z.optional(z.string()),
});

export class History {
  readonly file: string;
  readonly #rotated: string;
  readonly #maxBytes: number;

  constructor(configDir: string, options: { maxBytes?: number } = {}) {
    this.file = path.join(configDir, 'history.jsonl');
    this.#rotated = path.join(configDir, 'history.1.jsonl');
    this.#maxBytes = options.maxBytes ?? 1_048_576;
  }

  /** Appends one transition; rotates first when the file is full. Never through a symbolic link. */
  append(transition: Transition): void {
    mkdirSync(path.dirname(this.file), { recursive: true });
    refuseLink(this.file);
    if (existsSync(this.file) && statSync(this.file).size >= this.#maxBytes) {
      refuseLink(this.#rotated);
      renameSync(this.file, this.#rotated);
    }
    // O_NOFOLLOW (where the system has it) closes the gap between the check above and the open.
    const fd = openSync(
      this.file,
      constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (constants.O_NOFOLLOW ?? 0),
      0o600,
    );
    try {
      writeSync(fd, `${JSON.stringify(redactBody(transition))}\n`);
    } finally {
      closeSync(fd);
    }
  }

  /** Transitions since `sinceMs` (epoch ms), oldest first; lines that do not parse are skipped and counted. */
  read(sinceMs = Number.NEGATIVE_INFINITY): { transitions: Transition[]; skipped: number } {
    // The window asks after every check: parse the files again only when they changed.
    const key = [this.#rotated, this.file]
      .map((f) => (existsSync(f) ? `${statSync(f).mtimeMs}:${statSync(f).size}` : '-'))
      .join('|');
    if (this.#cache?.key !== key) this.#cache = { key, ...this.#parse() };
    const { all, skipped } = this.#cache;
    return { transitions: all.filter((t) => Date.parse(t.time) >= sinceMs), skipped };
  }

  #cache: { key: string; all: Transition[]; skipped: number } | undefined;

  #parse(): { all: Transition[]; skipped: number } {
    const transitions: Transition[] = [];
    let skipped = 0;
    for (const file of [this.#rotated, this.file]) {
      if (!existsSync(file)) continue;
      for (const line of this.#text(file).split('\n')) {
        if (line.trim() === '') continue;
        let parsed;
        try {
          parsed = transitionSchema.safeParse(JSON.parse(line));
        } catch {
          parsed = undefined;
        }
        if (!parsed?.success) {
          skipped += 1;
          continue;
        }
        transitions.push(parsed.data as Transition);
      }
    }
    return { all: transitions, skipped };
  }

  /** A history file's text; one that cannot be read, or is far larger than the keeper writes, is a UserError
   * naming it. */
  #text(file: string): string {
    try {
      const size = statSync(file).size;
      // The keeper rotates at maxBytes; a file several times larger is not its own (and would cost memory to read).
      if (size > Math.max(this.#maxBytes * 4, 4 * 1_048_576)) {
        throw new UserError(
          `${file} is ${(size / 1_048_576).toFixed(1)} MB, far more than the keeper's history grows to: move it ` +
            `away or delete it.`,
        );
      }
      return readFileSync(file, 'utf8');
    } catch (error) {
      if (error instanceof UserError) throw error;
      throw new UserError(
        `Could not read the history in ${file} ` +
          `(${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): fix or delete the file.`,
      );
    }
  }
}
