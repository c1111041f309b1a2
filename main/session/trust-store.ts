/**
 * The certificates the user trusts, by gateway origin (`https://host:port`), in `trust.json` of the
 * config directory. A pin holds the SHA-256 fingerprint and, once seen, the certificate itself.
 */
import * as z from './zod.ts';
import { JsonStore } from './json-store.ts';

const pinSchema = z.object({
  fingerprint256: z.string().check(z.regex(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/, 'not a SHA-256 fingerprint')),
  pem: z.optional(z.string()),
  /** How it came to be trusted: on first use of a loopback gateway, or by the user. */
  source: z.enum(['first-use', 'user']),
  recordedAt: z.string(),
});
export type Pin = z.infer<typeof pinSchema>;

const fileSchema = z.object({ version: z.literal(1), pins: z.record(z.string(), pinSchema) });
type TrustFile = z.infer<typeof fileSchema>;

/** The pinned certificates. Every call reads the file, so two processes see each other's changes. */
export class TrustStore {
  readonly #store: JsonStore<TrustFile>;

  constructor(configDir: string) {
    this.#store = new JsonStore({
      dir: configDir,
      name: 'trust',
      schema: fileSchema,
      empty: () => ({ version: 1, pins: {} }),
    });
  }

  get path(): string {
    return this.#store.path;
  }

  get(origin: string): Pin | undefined {
    return this.#store.read().pins[origin];
  }

  list(): Record<string, Pin> {
    return this.#store.read().pins;
  }

  record(origin: string, pin: Omit<Pin, 'recordedAt'>, now = new Date()): Pin {
    const full: Pin = { ...pin, recordedAt: now.toISOString() };
    this.#store.update((file) => ({ ...file, pins: { ...file.pins, [origin]: full } }));
    return full;
  }

  /** Forgets the pin of `origin`; true when there was one. */
  forget(origin: string): boolean {
    let had = false;
    this.#store.update((file) => {
      had = origin in file.pins;
      const { [origin]: _gone, ...rest } = file.pins;
      return { ...file, pins: rest };
    });
    return had;
  }
}
