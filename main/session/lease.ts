/**
 * One keeper per gateway: a lease per gateway origin in the config folder's `leases/` folder.
 * The lease is an operating-system lock on `leases/<gateway>.lock` (file-lock.ts), so it is
 * released when its holder ends, however it ends, and can never be left stale. Beside it the
 * holder keeps `leases/<gateway>.json`: who holds it (pid, program, since when) and the session's
 * state after every check, which a second keeper started beside it shows instead of tickling too.
 * That file only informs: whoever holds the lock holds the lease, whatever the file says (a file
 * left by a holder that died is simply overwritten by the next one).
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import * as z from './zod.ts';
import { HeldLock } from './file-lock.ts';
import { JsonStore } from './json-store.ts';
import type { KeeperStatus } from './keeper.ts';
import { redactBody } from './redact.ts';
import { SESSION_STATES } from './states.ts';

/** The programs that keep a session: `ibkr-keeper watch` and the desktop app. */
export const KEEPER_PROGRAMS = ['watch', 'desktop'] as const;
export type KeeperProgram = (typeof KEEPER_PROGRAMS)[number];

/** Who holds a lease. */
export interface LeaseHolder {
  readonly pid: number;
  readonly program: KeeperProgram;
  /** When it took the lease (ISO). */
  readonly since: string;
}

const holderSchema = z.object({
  pid: z.int().check(z.positive()),
  program: z.enum(KEEPER_PROGRAMS),
  since: z.string(),
});

/** The keeper's status as the holder publishes it; fields added later are kept as they come. */
const statusSchema = z.looseObject({
  gateway: z.string(),
  state: z.enum(SESSION_STATES),
  previous: z.nullable(z.enum(SESSION_STATES)),
  reason: z.string(),
  facts: z.record(z.string(), z.unknown()),
  since: z.string(),
  lastTickleAt: z.nullable(z.string()),
  nextCheckAt: z.nullable(z.string()),
  reauthAttempts: z.number(),
});

const leaseFileSchema = z.object({
  version: z.literal(1),
  gateway: z.string(),
  holder: holderSchema,
  /** When the holder last wrote (ISO). */
  updatedAt: z.string(),
  status: z.optional(statusSchema),
});
export type LeaseFile = z.infer<typeof leaseFileSchema>;

/** The name of a gateway's lease files: readable, safe on every file system, and unique. */
export function leaseName(origin: string): string {
  const readable = origin
    .replace('://', '-')
    .replace(/[^A-Za-z0-9.-]+/g, '-')
    .replace(/-+$/, '');
  return `${readable}-${createHash('sha256').update(origin).digest('hex').slice(0, 8)}`;
}

/** "pid 4242 (ibkr-keeper watch)": how messages name a holder. */
export function describeHolder(holder: LeaseHolder): string {
  return `pid ${holder.pid} (${holder.program === 'watch' ? 'ibkr-keeper watch' : 'the desktop app'})`;
}

/** The lease of one gateway, as one process sees it. */
export class GatewayLease {
  readonly origin: string;
  readonly lockPath: string;
  readonly #file: JsonStore<LeaseFile>;
  readonly #self: Omit<LeaseHolder, 'since'>;
  #lock: HeldLock | undefined;
  #since = '';

  /** `key`: what the lease is held for (GatewayAddress.ledgerKey: every loopback name of one gateway alike);
   * default `origin`. */
  constructor(options: { configDir: string; origin: string; key?: string; program: KeeperProgram; pid?: number }) {
    const dir = path.join(options.configDir, 'leases');
    const name = leaseName(options.key ?? options.origin);
    this.origin = options.origin;
    this.lockPath = path.join(dir, `${name}.lock`);
    this.#file = new JsonStore({ dir, name, schema: leaseFileSchema, empty: () => ({}) as LeaseFile, durable: false });
    this.#self = { pid: options.pid ?? process.pid, program: options.program };
  }

  /** The state file's path, for messages. */
  get statePath(): string {
    return this.#file.path;
  }

  get held(): boolean {
    return this.#lock?.held ?? false;
  }

  /** This process, as holder (valid once it holds the lease). */
  get self(): LeaseHolder {
    return { ...this.#self, since: this.#since };
  }

  /** Takes the lease if nobody holds it; true when this process holds it (now or already). */
  tryAcquire(now = new Date()): boolean {
    if (this.held) return true;
    this.#lock = HeldLock.tryAcquire(this.lockPath);
    if (this.#lock === undefined) return false;
    this.#since = now.toISOString();
    this.#write(undefined, now);
    return true;
  }

  /** The holder's state file: who holds the lease and what it saw; undefined before it wrote. */
  read(): LeaseFile | undefined {
    const file = this.#file.read();
    return file.version === undefined ? undefined : file;
  }

  /** Publishes the keeper's status for followers (holder only; the session id never whole). */
  publish(status: KeeperStatus, now = new Date()): void {
    if (this.held) this.#write(status, now);
  }

  /** Gives the lease up: the state file goes first, while the lock still keeps others out. */
  release(): void {
    if (!this.held) return;
    try {
      rmSync(this.#file.path, { force: true });
    } finally {
      this.#lock?.release();
      this.#lock = undefined;
    }
  }

  #write(status: KeeperStatus | undefined, now: Date): void {
    const file: LeaseFile = { version: 1, gateway: this.origin, holder: this.self, updatedAt: now.toISOString() };
    if (status !== undefined) file.status = redactBody(status) as LeaseFile['status'];
    this.#file.write(file);
  }
}
