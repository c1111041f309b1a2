/**
 * A keeper that keeps a gateway's session only while it holds that gateway's lease (lease.ts).
 * The first one started keeps the session alive; one started beside it (a second `watch`, the
 * desktop app) follows the holder's published state read-only, sends nothing, and takes over
 * the moment the holder ends. Front ends listen to it as they would to the keeper: the same
 * events (a follower's `transition`s are the holder's), plus `role` when it starts or stops
 * following.
 */
import { EventEmitter } from 'node:events';
import type { Keeper, KeeperEvents, KeeperStatus, Transition } from './keeper.ts';
import { describeHolder, type GatewayLease, type LeaseFile, type LeaseHolder } from './lease.ts';
import type { Clock, Scheduler, Timer } from './time.ts';

/** Whether this process keeps the session, or follows the process that does. */
export type KeeperRole =
  | { readonly role: 'keeping' }
  /** `holder` is undefined for the moment between another process taking the lease and saying who it is. */
  | { readonly role: 'following'; readonly holder: LeaseHolder | undefined };

export interface LeasedKeeperEvents extends KeeperEvents {
  role: [KeeperRole];
}

export interface LeasedKeeperOptions {
  /** The keeper to run while holding the lease (not started yet). */
  readonly keeper: Keeper;
  readonly lease: GatewayLease;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  /** How often a follower reads the holder's state and tries the lease. Default 1 s. */
  readonly followEveryMs?: number;
}

export class LeasedKeeper extends EventEmitter<LeasedKeeperEvents> {
  readonly keeper: Keeper;
  readonly #lease: GatewayLease;
  readonly #clock: Clock;
  readonly #scheduler: Scheduler;
  readonly #followEveryMs: number;
  #running = false;
  #keeping = false;
  #timer: Timer | undefined;
  #holder: LeaseHolder | undefined;
  #followed: KeeperStatus | undefined;
  #lastRead = '';
  #announced = false;
  #problem = '';
  readonly #startedWall: number;

  constructor(options: LeasedKeeperOptions) {
    super();
    this.keeper = options.keeper;
    this.#lease = options.lease;
    this.#clock = options.clock;
    this.#scheduler = options.scheduler;
    this.#followEveryMs = options.followEveryMs ?? 1_000;
    this.#startedWall = options.clock.wall();
    this.keeper.on('transition', (t) => this.#keeping && this.emit('transition', t));
    this.keeper.on('status', (s) => {
      if (!this.#keeping) return;
      this.#publish(s);
      this.emit('status', s);
    });
    this.keeper.on('log', (line) => this.emit('log', line));
  }

  /** Keeps the session if the lease is free, else follows its holder. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    if (!this.#tryToKeep()) this.#poll();
  }

  /** Stops keeping or following, and gives the lease up (the session is left as it is). */
  async stop(): Promise<void> {
    this.#running = false;
    this.#timer?.cancel();
    await this.keeper.stop();
    this.#keeping = false;
    this.#lease.release();
  }

  role(): KeeperRole {
    return this.#keeping ? { role: 'keeping' } : { role: 'following', holder: this.#holder };
  }

  /** The session's state: this keeper's, or the one its holder published. */
  status(): KeeperStatus {
    if (this.#keeping) return this.keeper.status();
    if (this.#followed !== undefined) return this.#followed;
    const who = this.#holder === undefined ? 'another keeper' : describeHolder(this.#holder);
    return {
      gateway: this.#lease.origin,
      state: 'starting',
      previous: null,
      reason: `${who} keeps this gateway's session; waiting for its first check.${this.#problem}`,
      facts: {},
      since: new Date(this.#startedWall).toISOString(),
      lastTickleAt: null,
      nextCheckAt: null,
      reauthAttempts: 0,
    };
  }

  /** Keeping: the keeper's loop is alive. Following: this process still reads the holder's state. */
  alive(): boolean {
    return this.#keeping ? this.keeper.alive() : this.#running;
  }

  /** Takes the lease and starts the keeper if nobody holds it; true when keeping. */
  #tryToKeep(): boolean {
    let got: boolean;
    try {
      got = this.#lease.tryAcquire(new Date(this.#clock.wall()));
    } catch (error) {
      // The lease cannot be taken at all (a read-only folder, say): keeping the session alive
      // comes first, so keep it, and say that a second keeper would not know about this one.
      this.emit(
        'log',
        `${(error as Error).message} Keeping the session without the lease: a second keeper on this folder ` +
          `would not see this one.`,
      );
      got = true;
    }
    if (!got) return false;
    const followed = this.#holder;
    this.#keeping = true;
    this.#timer?.cancel();
    if (followed !== undefined)
      this.emit(
        'log',
        `${describeHolder(followed)} stopped: this process keeps the session of ${this.#lease.origin} now.`,
      );
    this.emit('role', this.role());
    this.keeper.start();
    return true;
  }

  /** One look at the lease: take it if its holder ended, else show what the holder published. */
  #poll(): void {
    if (!this.#running || this.#keeping) return;
    if (this.#tryToKeep()) return;
    let file: LeaseFile | undefined;
    try {
      file = this.#lease.read();
      this.#problem = '';
    } catch (error) {
      const problem = ` (${(error as Error).message})`;
      if (problem !== this.#problem)
        this.emit('log', `Could not read the state of the keeper that holds the lease: ${(error as Error).message}`);
      this.#problem = problem;
    }
    this.#follow(file);
    this.#timer = this.#scheduler.after(this.#followEveryMs, () => this.#poll());
  }

  #follow(file: LeaseFile | undefined): void {
    const holder = file?.holder;
    if (
      !this.#announced ||
      (holder !== undefined && (holder.pid !== this.#holder?.pid || holder.since !== this.#holder?.since))
    ) {
      this.#holder = holder ?? this.#holder;
      this.#announced = true;
      this.emit('role', this.role());
    }
    const read = JSON.stringify(file?.status ?? null);
    if (read === this.#lastRead) return;
    this.#lastRead = read;
    const before = this.#followed;
    const status = file?.status as KeeperStatus | undefined;
    if (status === undefined) return;
    this.#followed = status;
    if (before?.state !== status.state) {
      const transition: Transition = {
        time: status.since,
        state: status.state,
        previous: before?.state ?? status.previous,
        reason: status.reason,
        facts: status.facts,
        gateway: status.gateway,
      };
      this.emit('transition', transition);
    }
    this.emit('status', status);
  }

  #publish(status: KeeperStatus): void {
    try {
      this.#lease.publish(status, new Date(this.#clock.wall()));
    } catch (error) {
      this.emit('log', `Could not publish the session's state for other keepers: ${(error as Error).message}`);
    }
  }
}
