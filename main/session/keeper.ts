/**
 * The keeper: the loop that keeps the brokerage session alive and recovers it without ever making
 * things worse. One request per interval in steady state; a failure is confirmed before it counts;
 * reauthentication within a persisted budget; never a takeover by itself; backoff while the
 * gateway is down; silence during a rate-limit penalty; a full stop on a changed certificate.
 * Time is injected; no error ends the loop. Front ends call its actions and listen to its events.
 */
import { EventEmitter } from 'node:events';
import { classify, readyReason, validateFacts, type Check, type Classification, type Facts } from './classify.ts';
import { validateOrRecall } from './check.ts';
import type { GatewayClient } from './gateway-client.ts';
import { redactText } from './redact.ts';
import { POLICY, type RecoveryBudget } from './policy.ts';
import type { PushLink } from './push.ts';
import type { SessionState } from './states.ts';
import type { Clock, Scheduler, Timer } from './time.ts';

/** What front ends show: the state, why, and what was seen. */
export interface KeeperStatus {
  readonly gateway: string;
  readonly state: SessionState;
  readonly previous: SessionState | null;
  readonly reason: string;
  readonly facts: Facts;
  /** ISO times. */
  readonly since: string;
  readonly lastTickleAt: string | null;
  readonly nextCheckAt: string | null;
  /** Reauthentications of the current drop. */
  readonly reauthAttempts: number;
}

/** One change of state, as `watch --json` prints it and the history keeps it. */
export interface Transition {
  readonly time: string;
  readonly state: SessionState;
  readonly previous: SessionState | null;
  readonly reason: string;
  readonly facts: Facts;
  /** The gateway's origin (history lines written before it was kept lack it). */
  readonly gateway?: string;
}

/**
 * What the gateway's supervisor tells the keeper (main/gateway/link.ts): why the gateway is down
 * (a sentence: the reason of `gateway-down`), or what the gateway's own log said of its login to
 * IBKR (`{ log }`: added to the reason of the state the session is in, docs/gateway.md, "Its log").
 */
export type GatewayProblem = string | { readonly log: string };

/** The outcome of an action a person asked for. */
export interface ActionResult {
  readonly ok: boolean;
  readonly message: string;
}

export interface KeeperEvents {
  transition: [Transition];
  /** After every step, changed or not. */
  status: [KeeperStatus];
  /** Something worth a log line (clock jumps, unexpected errors). */
  log: [string];
}

export interface KeeperOptions {
  readonly client: GatewayClient;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly budget: RecoveryBudget;
  /** Between tickles in steady state. Default 60 s. */
  readonly intervalMs?: number;
  /** The gateway's WebSocket (push.ts), held while ready: its doubts are confirmed at once. */
  readonly push?: PushLink;
}

const TUG_OF_WAR_REASON =
  'Another login takes the session back each time the keeper reauthenticates (TWS, mobile or another gateway): ' +
  'the keeper stopped reauthenticating so as not to kick it out again. Choose "Take over" to use the session ' +
  'here, or log in there.';

/** States whose reason carries what the gateway's log said of its login (a state the log can explain). */
const LOG_NOTED = new Set<SessionState>([
  'not-authenticated',
  'reauthenticating',
  'competing',
  'login-required',
  'gateway-down',
]);

const STICKY_FACTS = ['userName', 'userId', 'account', 'serverName', 'serverVersion'] as const;
const NEVER_CONFIRMED = new Set<SessionState>(['rate-limited', 'untrusted-certificate']);
/** What an auth status taken on a doubt of push confirms at once; anything else is looked at again as today. */
const PUSH_CONFIRMS = new Set<SessionState>(['not-authenticated', 'competing']);

export class Keeper extends EventEmitter<KeeperEvents> {
  readonly #client: GatewayClient;
  readonly #clock: Clock;
  readonly #scheduler: Scheduler;
  readonly #budget: RecoveryBudget;
  #intervalMs: number;

  #state: SessionState = 'starting';
  #previous: SessionState | null = null;
  #reason = 'No answer from the gateway yet.';
  #facts: Facts = {};
  #sticky: Facts = {};
  #sinceWall: number;
  #lastTickleWall: number | null = null;
  #nextCheckWall: number | null = null;

  #timer: Timer | undefined;
  #watchdog: Timer | undefined;
  #queue: Promise<void> = Promise.resolve();
  #running = false;
  #confirming = false;
  #downStreak = 0;
  #reauth: { startedMono: number; takingOver: boolean } | undefined;
  #loginPollUntilMono = Number.NEGATIVE_INFINITY;
  #lastValidateMono = Number.NEGATIVE_INFINITY;
  #lastWall = 0;
  #lastMono = 0;
  /** The pin in force when the certificate was refused; another one means the user decided. */
  #refusedPin: string | undefined;
  /** Since when (monotonic) every step has failed with an unexpected error; undefined while steps succeed. */
  #faultingSinceMono: number | undefined;
  /** Why the gateway is down, from its supervisor (issue 9: "the gateway keeps exiting ..."), while it is. */
  #gatewayProblem: string | undefined;
  /** What the gateway's log said of its login to IBKR, until a login succeeds or the gateway restarts. */
  #gatewayLogNote: string | undefined;
  readonly #push: PushLink | undefined;
  /** The session id of the last ready tickle: the cookie of push's socket. */
  #session: string | undefined;
  #doubtQueued = false;

  constructor(options: KeeperOptions) {
    super();
    this.#client = options.client;
    this.#clock = options.clock;
    this.#scheduler = options.scheduler;
    this.#budget = options.budget;
    this.#intervalMs = options.intervalMs ?? 60_000;
    this.#sinceWall = this.#clock.wall();
    this.#push = options.push;
    this.#push?.on('doubt', (why) => this.#doubt(why));
    this.#push?.on('log', (line) => void this.emit('log', line));
  }

  /** Starts the loop: a first check at once, and the watchdog for sleep and clock jumps. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#lastWall = this.#clock.wall();
    this.#lastMono = this.#clock.monotonic();
    this.#schedule(0);
    this.#watchdog = this.#scheduler.after(POLICY.watchdogMs, () => this.#watch());
  }

  /** Stops the loop, leaving the session as it is (no logout); resolves when the current step ends. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#timer?.cancel();
    this.#watchdog?.cancel();
    this.#nextCheckWall = null;
    await this.#queue;
    await this.#push?.stop();
  }

  status(): KeeperStatus {
    const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
    return {
      gateway: this.#client.address.origin,
      state: this.#state,
      previous: this.#previous,
      reason: this.#shownReason(),
      facts: { ...this.#sticky, ...this.#facts },
      since: new Date(this.#sinceWall).toISOString(),
      lastTickleAt: iso(this.#lastTickleWall),
      nextCheckAt: iso(this.#nextCheckWall),
      reauthAttempts: this.#attemptsThisDrop(),
    };
  }

  /**
   * True while the loop runs, no check is overdue by more than two minutes, and the steps of the
   * last 3 intervals did not all fail (a loop that only fails makes no progress).
   */
  alive(): boolean {
    const failing =
      this.#faultingSinceMono !== undefined &&
      this.#clock.monotonic() - this.#faultingSinceMono >= 3 * this.#intervalMs;
    return (
      this.#running && !failing && (this.#nextCheckWall === null || this.#clock.wall() <= this.#nextCheckWall + 120_000)
    );
  }

  /** The budget's count, or 0 when its file cannot be read (the fault is shown as the state). */
  #attemptsThisDrop(): number {
    try {
      return this.#budget.attemptsThisDrop();
    } catch {
      return 0;
    }
  }

  get intervalMs(): number {
    return this.#intervalMs;
  }

  // ---- actions for the front ends ------------------------------------------------------------

  /**
   * What the gateway's supervisor knows and polling cannot. A sentence: the gateway is down (it
   * keeps exiting, it could not listen), the reason of `gateway-down` from the next check on
   * instead of a refused connection. `{ log }`: the gateway's log said its login to IBKR failed,
   * added at once to the reason of the state the session is in (which stays what the session
   * says) until the session is ready. Undefined: nothing is wrong that the supervisor knows of
   * (the gateway runs again, or its log said a login succeeded): both are forgotten.
   */
  setGatewayProblem(problem: GatewayProblem | undefined): void {
    const sentence = (text: string): string =>
      `${text[0]!.toUpperCase()}${text.slice(1)}${text.endsWith('.') ? '' : '.'}`;
    const before = this.#shownReason();
    if (problem === undefined) {
      this.#gatewayProblem = undefined;
      this.#gatewayLogNote = undefined;
    } else if (typeof problem === 'string') {
      this.#gatewayProblem = sentence(problem);
      this.#gatewayLogNote = undefined; // that gateway's process is gone
    } else {
      this.#gatewayLogNote = sentence(problem.log);
    }
    // Said at once (the window, /status, watch's line), without a request: the state is the session's.
    if (this.#shownReason() !== before) this.emit('status', this.status());
  }

  /** The reason shown: the session's, and what the gateway's log said where that can explain it. */
  #shownReason(): string {
    return this.#gatewayLogNote !== undefined && LOG_NOTED.has(this.#state)
      ? `${this.#reason} ${this.#gatewayLogNote}`
      : this.#reason;
  }

  /** Checks now (resume from sleep, screen unlock, a person's click, a certificate trusted anew). */
  checkNow(): Promise<void> {
    return this.#enqueue(async () => {
      if (this.#state === 'paused' || !this.#running) return;
      this.#timer?.cancel();
      await this.#step();
    });
  }

  /** Reauthenticates at a person's request: outside the per-drop pauses, within the hourly cap. */
  reauthenticate(): Promise<ActionResult> {
    return this.#act(async () => {
      const permission = this.#budget.permission(this.#clock.wall());
      if (!permission.allowed && permission.untilWall !== undefined) {
        return { ok: false, message: `Not now: ${permission.why}; more could lock the account.` };
      }
      const failed = await this.#startReauth(false);
      if (failed) return { ok: false, message: `The reauthentication did not start: ${failed.reason}` };
      return { ok: true, message: 'Reauthentication started.' };
    });
  }

  /** Takes the session over from another login (`ssodh/init` with `compete:true`): only on request. */
  takeOver(): Promise<ActionResult> {
    return this.#act(async () => {
      const failed = await this.#startReauth(true);
      if (failed) return { ok: false, message: `The takeover did not start: ${failed.reason}` };
      return { ok: true, message: 'Taking the session over from the other login.' };
    });
  }

  /** Ends the gateway session (`/logout`). */
  logout(): Promise<ActionResult> {
    return this.#act(async () => {
      const answer = await this.#client.logout();
      if (answer.kind !== 'answer') {
        const result = classify({ other: answer }, this.#client.address.origin);
        return { ok: false, message: `The logout did not go through: ${result.reason}` };
      }
      this.#reauth = undefined;
      this.#transition(
        'login-required',
        `You logged out of the gateway; open ${this.#client.address.origin} in a browser to log in again.`,
        {},
      );
      this.#schedule(this.#intervalMs);
      return { ok: true, message: 'Logged out.' };
    });
  }

  /** Stops keeping the session alive until `resume`. */
  pause(): Promise<ActionResult> {
    return this.#act(async () => {
      this.#timer?.cancel();
      this.#nextCheckWall = null;
      this.#reauth = undefined;
      this.#transition(
        'paused',
        'Keeping alive is paused: the session will time out after about 5 minutes without requests.',
        {},
      );
      return { ok: true, message: 'Paused.' };
    });
  }

  resume(): Promise<ActionResult> {
    return this.#act(async () => {
      if (this.#state !== 'paused') return { ok: true, message: 'Not paused.' };
      this.#transition('starting', 'Resumed: checking the session.', {});
      await this.#step();
      return { ok: true, message: 'Resumed.' };
    });
  }

  /** The user opened the login page: check every 5 s for the next 10 minutes. Returns its URL. */
  openLoginPage(): string {
    this.#loginPollUntilMono = this.#clock.monotonic() + POLICY.loginPollForMs;
    if (this.#state === 'login-required') void this.#enqueue(async () => this.#schedule(POLICY.loginPollMs));
    return this.#client.address.origin;
  }

  /** Changes the steady-state interval; takes effect at once. */
  setIntervalMs(ms: number): void {
    this.#intervalMs = ms;
    if (this.#state === 'ready' || this.#state === 'competing') void this.#enqueue(async () => this.#schedule(ms));
  }

  // ---- the loop ----------------------------------------------------------------------------

  /** Serializes every step and action: never two requests in flight, never an unhandled rejection. */
  #enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.#queue
      .then(async () => {
        await task();
        this.#faultingSinceMono = undefined;
      })
      .catch((error: unknown) => this.#fault(error))
      // Once more at the end of every step: what comes next (nextCheckAt) is known only now.
      .then(() => void this.emit('status', this.status()))
      .catch((error: unknown) => void this.emit('log', `A listener of the keeper failed: ${describeError(error)}`))
      .catch(() => undefined);
    this.#queue = run;
    return run;
  }

  #act(task: () => Promise<ActionResult>): Promise<ActionResult> {
    let result: ActionResult = { ok: false, message: 'The keeper is stopped.' };
    return this.#enqueue(async () => {
      if (this.#running) result = await task();
    }).then(() => result);
  }

  #schedule(ms: number): void {
    this.#timer?.cancel();
    if (!this.#running) return;
    this.#nextCheckWall = this.#clock.wall() + ms;
    this.#timer = this.#scheduler.after(ms, () => this.#enqueue(() => this.#step()));
  }

  async #step(): Promise<void> {
    if (!this.#running || this.#state === 'paused') return;
    if (this.#reauth !== undefined) return this.#pollReauth();
    return this.#check();
  }

  /** One look at the session: a tickle (the auth status when it is unclear or to confirm a change). */
  async #check(): Promise<void> {
    const origin = this.#client.address.origin;
    let check: Check;
    if (this.#confirming) {
      check = { authStatus: await this.#client.authStatus() };
    } else {
      const tickle = await this.#client.tickle();
      if (tickle.kind === 'answer') {
        this.#lastTickleWall = this.#clock.wall();
        this.#session = tickle.body.session;
      }
      check = { tickle };
      if (classify(check, origin).unclear) check = { tickle, authStatus: await this.#client.authStatus() };
    }
    let result = classify(check, origin);
    if (result.askValidate) {
      // A 401 {"error":"not authenticated"} means a dropped brokerage session or an ended login: only
      // a fresh answer of `/sso/validate` tells. Once the login is known to be required, asked at most
      // every 5 minutes; when IBKR's one a minute does not allow it yet, decide nothing until it does.
      if (
        this.#state === 'login-required' &&
        this.#clock.monotonic() - this.#lastValidateMono < POLICY.validateEveryMs
      ) {
        result = { ...result, reason: this.#reason };
      } else {
        const validate = await this.#client.validate();
        if (validate.kind === 'not-sent' && validate.reason === 'too-soon') {
          if (this.#state === 'ready') this.#confirming = true;
          return this.#schedule(validate.retryAfterMs + 100);
        }
        this.#lastValidateMono = this.#clock.monotonic();
        result = classify({ ...check, validate }, origin);
      }
    }
    if (result.state === 'not-authenticated' && this.#state === 'login-required')
      result = await this.#stillLoggedOut(result);
    if (
      this.#state === 'ready' &&
      result.state !== 'ready' &&
      !this.#confirming &&
      !NEVER_CONFIRMED.has(result.state)
    ) {
      // A transient failure is not a drop: look again before saying anything.
      this.#confirming = true;
      this.#schedule(POLICY.confirmAfterMs);
      return;
    }
    this.#confirming = false;
    await this.#apply(result);
  }

  /**
   * After a logout the tickle still answers (not authenticated), but reauthenticating would only
   * hear "not logged in": the login stays required until `/sso/validate` (at most every 5 min)
   * says the login is back, or the session is.
   */
  async #stillLoggedOut(result: Classification): Promise<Classification> {
    const keep: Classification = { ...result, state: 'login-required', reason: this.#reason };
    if (this.#clock.monotonic() - this.#lastValidateMono < POLICY.validateEveryMs) return keep;
    this.#lastValidateMono = this.#clock.monotonic();
    const validate = await this.#client.validate();
    return validate.kind === 'answer' && validate.body.RESULT ? result : keep;
  }

  /**
   * Takes a classification on, and decides when to look next. `afterReauth`: the keeper's own
   * reauthentication (not a takeover) led here.
   */
  async #apply(result: Classification, afterReauth = false): Promise<void> {
    const before = this.#state;
    if (result.state === 'ready') {
      await this.#learnUser(before !== 'ready');
      result = { ...result, reason: readyReason({ ...result.facts, ...this.#sticky }) };
      this.#budget.recovered(this.#clock.wall(), afterReauth);
    }
    if (result.state === 'not-authenticated') {
      this.#budget.beginDrop(this.#clock.wall());
      // Lost again soon after each of the keeper's last reauthentications: another login takes it
      // back every time (the gateway's own login competes). Fighting on would kick it again and again.
      if (this.#budget.tugOfWar()) result = { ...result, state: 'competing', reason: TUG_OF_WAR_REASON };
    }
    if (result.state === 'gateway-down' && this.#gatewayProblem !== undefined)
      result = { ...result, reason: this.#gatewayProblem };
    this.#transition(result.state, result.reason, result.facts);
    if (result.state !== 'gateway-down') this.#downStreak = 0;
    switch (result.state) {
      case 'ready':
        if (this.#session !== undefined) this.#push?.hold(this.#session);
        // Ready by the auth status (after a reauthentication): the session id that push needs comes
        // with a tickle, so tickle soon rather than a whole interval later, when a drop would again
        // be heard only at the next tickle.
        else if (this.#push !== undefined) return this.#schedule(POLICY.reauthPollMs);
        return this.#schedule(this.#intervalMs);
      case 'not-authenticated':
        return this.#recover();
      case 'login-required':
        return this.#schedule(
          this.#clock.monotonic() < this.#loginPollUntilMono ? POLICY.loginPollMs : this.#intervalMs,
        );
      case 'gateway-down': {
        const backoff = POLICY.gatewayBackoffMs;
        return this.#schedule(backoff[Math.min(this.#downStreak++, backoff.length - 1)]!);
      }
      case 'rate-limited':
        return this.#schedule((result.facts.retryAfterMs ?? 600_000) + 1_000);
      case 'untrusted-certificate':
        // Stop: nothing more goes to this gateway until the user trusts the new certificate
        // (the watchdog notices a change of the trust store, e.g. `ibkr-keeper trust accept`).
        this.#timer?.cancel();
        this.#nextCheckWall = null;
        this.#refusedPin = this.#client.trustedFingerprint();
        return;
      default:
        return this.#schedule(this.#intervalMs);
    }
  }

  /** Not authenticated while the login may be valid: reauthenticate within the budget. */
  async #recover(): Promise<void> {
    const now = this.#clock.wall();
    this.#budget.beginDrop(now);
    const permission = this.#budget.permission(now);
    if (!permission.allowed) {
      this.#reason =
        `${this.#reason} The keeper stopped reauthenticating ` +
        `(${permission.why}) so as not to lock the account: check the gateway, then reauthenticate.`;
      this.emit('status', this.status());
      return this.#schedule(this.#intervalMs);
    }
    if (permission.atWall > now) return this.#schedule(Math.min(permission.atWall - now, this.#intervalMs));
    await this.#startReauth(false);
  }

  /** Triggers a reauthentication (or a takeover); what the gateway said instead when it did not start. */
  async #startReauth(takeOver: boolean): Promise<Classification | undefined> {
    this.#budget.beginDrop(this.#clock.wall());
    this.#budget.record(this.#clock.wall());
    const trigger = takeOver ? await this.#client.ssoInit(true) : await this.#client.reauthenticate();
    if (trigger.kind !== 'answer') {
      const result = classify({ reauth: trigger }, this.#client.address.origin);
      await this.#apply(result);
      return result;
    }
    this.#reauth = { startedMono: this.#clock.monotonic(), takingOver: takeOver };
    const attempt = this.#budget.attemptsThisDrop();
    const what = takeOver
      ? 'Taking the session over from the other login'
      : `Reauthenticating (attempt ${attempt} of ${POLICY.reauthPausesMs.length})`;
    this.#transition('reauthenticating', `${what}: the gateway is logging in again.`, {});
    this.#schedule(POLICY.reauthPollMs);
    return undefined;
  }

  /** Polls the auth status after "triggered" until ready, failed, or 60 s. */
  async #pollReauth(): Promise<void> {
    const reauth = this.#reauth!;
    const result = classify({ authStatus: await this.#client.authStatus() }, this.#client.address.origin);
    const waiting = result.state === 'not-authenticated' || (reauth.takingOver && result.state === 'competing');
    const elapsed = this.#clock.monotonic() - reauth.startedMono;
    if (waiting && !result.facts.fail && elapsed < POLICY.reauthPollForMs) return this.#schedule(POLICY.reauthPollMs);
    this.#reauth = undefined;
    if (waiting) {
      this.#budget.failed(this.#clock.wall());
      const why = result.facts.fail
        ? `the gateway reports "${result.facts.fail}"`
        : 'the gateway did not log in again within 60 s';
      return this.#apply({ ...result, state: 'not-authenticated', reason: `The reauthentication failed: ${why}.` });
    }
    return this.#apply(result, !reauth.takingOver);
  }

  /**
   * The user's name and account from `/sso/validate`: when unknown, and when the session comes
   * back; at most every 5 minutes, never in steady state (one request per interval).
   */
  async #learnUser(cameBack: boolean): Promise<void> {
    const now = this.#clock.monotonic();
    if (now - this.#lastValidateMono < POLICY.validateEveryMs) return;
    if (this.#sticky.userName !== undefined && !cameBack) return;
    this.#lastValidateMono = now;
    // Asked by another command less than a minute ago (IBKR allows one a minute): what it answered.
    const validate = await validateOrRecall(this.#client);
    if (validate.kind === 'answer' && validate.body.RESULT) {
      const { ssoExpiresInMs: _fresh, ...user } = validateFacts(validate.body);
      Object.assign(this.#sticky, user);
    }
  }

  #transition(state: SessionState, reason: string, facts: Facts): void {
    for (const key of STICKY_FACTS)
      if (facts[key] !== undefined) (this.#sticky as Record<string, unknown>)[key] = facts[key];
    this.#facts = Object.fromEntries(
      Object.entries(facts).filter(([key]) => !(STICKY_FACTS as readonly string[]).includes(key)),
    );
    this.#reason = reason;
    if (state !== 'ready' && this.#push !== undefined) {
      // Push is held only while ready; the next ready tickle gives the (perhaps new) session id.
      this.#session = undefined;
      this.#push.release();
    }
    // A login that succeeded ends what the gateway's log said of a failed one.
    if (state === 'ready') this.#gatewayLogNote = undefined;
    if (state !== this.#state) {
      this.#previous = this.#state;
      this.#state = state;
      this.#sinceWall = this.#clock.wall();
      const status = this.status();
      this.emit('transition', {
        time: status.since,
        state,
        previous: this.#previous,
        reason: status.reason,
        facts: status.facts,
        gateway: status.gateway,
      });
    }
    this.emit('status', this.status());
  }

  /**
   * Push raised a doubt (an sts, a close, a silent socket): confirmed at once with one auth status,
   * paced like every request. A drop or another login it confirms is acted on as a confirmed check
   * (recovery is still confirmed by polling); an unclear answer is looked at again as today; a ready
   * answer changes nothing, not even the time of the next tickle.
   */
  #doubt(why: string): void {
    if (this.#doubtQueued || this.#state !== 'ready') return;
    this.#doubtQueued = true;
    void this.#enqueue(async () => {
      this.#doubtQueued = false;
      if (!this.#running || this.#state !== 'ready' || this.#reauth !== undefined || this.#confirming) return;
      const result = classify({ authStatus: await this.#client.authStatus() }, this.#client.address.origin);
      if (result.state === 'ready') return;
      this.emit('log', `Push: ${why}; the auth status says ${result.state}.`);
      if (PUSH_CONFIRMS.has(result.state) && !result.askValidate) {
        this.#confirming = false;
        return this.#apply(result);
      }
      this.#confirming = true;
      this.#schedule(POLICY.confirmAfterMs);
    });
  }

  /** Compares the clocks: a sleep or a clock change is answered with a check at once. */
  async #watch(): Promise<void> {
    if (!this.#running) return;
    const wall = this.#clock.wall();
    const mono = this.#clock.monotonic();
    const drift = wall - this.#lastWall - (mono - this.#lastMono);
    this.#lastWall = wall;
    this.#lastMono = mono;
    this.#watchdog = this.#scheduler.after(POLICY.watchdogMs, () => this.#watch());
    if (this.#state === 'untrusted-certificate') {
      if (this.#client.trustedFingerprint() === this.#refusedPin) return;
      this.emit('log', 'The trusted certificate changed: checking the session now.');
      await this.checkNow();
      return;
    }
    if (Math.abs(drift) > POLICY.driftMs) {
      const what =
        drift > 0
          ? `woke from sleep or the clock moved ahead (${Math.round(drift / 1_000)} s)`
          : `the clock moved back (${Math.round(-drift / 1_000)} s)`;
      this.emit('log', `The computer ${what}: checking the session now.`);
      this.#confirming = false;
      await this.checkNow();
    }
  }

  /**
   * An unexpected error in a step (a damaged or unwritable file, no file descriptors...): shown as
   * the state `keeper-error` with the error's words, tried again at the normal interval. The loop
   * never ends on an error and never stalls silently.
   */
  #fault(error: unknown): void {
    const message = describeError(error);
    this.emit('log', `The keeper could not complete a step (it tries again at the next interval): ${message}`);
    this.#faultingSinceMono ??= this.#clock.monotonic();
    this.#confirming = false;
    this.#reauth = undefined;
    if (!this.#running || this.#state === 'paused' || this.#state === 'untrusted-certificate') return;
    try {
      this.#transition('keeper-error', `The keeper cannot keep the session: ${message}`, {});
    } finally {
      this.#schedule(this.#intervalMs);
    }
  }
}

/** An error's message on one line, redacted and cut to a readable length. */
function describeError(error: unknown): string {
  const text = redactText(String((error as Error | null)?.message ?? error))
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}
