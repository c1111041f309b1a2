/**
 * The simulated gateway's session, as docs/gateway.md describes the real one: the login (SSO) session,
 * the brokerage session and its idle timeout, reauthentication with its latency, competing
 * logins, and the bodies each endpoint answers in each state. Time comes from the simulator's
 * clock; everything time-driven is settled when asked (`settle`), so a jump of the clock works.
 */
import { randomBytes } from 'node:crypto';

/** The login (SSO) session: valid, none at all (401), or ended by `/logout`. */
export type SsoState = 'valid' | 'none' | 'ended';

/** The brokerage session. `kicked`: another login took it over; `competing`: another login is trying. */
export type BrokerageState = 'authenticated' | 'connected' | 'disconnected' | 'competing' | 'kicked';

/** Which gateway build the bodies imitate. */
export type BodyVariant = 'current' | '2023' | '2021';

/** The time-driven behaviour, all in simulated milliseconds. */
export interface ModelSettings {
  /** No request for this long ends the brokerage session (real: about 5-6 min). */
  idleTimeoutMs: number;
  /** From `{"message":"triggered"}` to authenticated (real: 3-15 s, rarely 40 s). */
  reauthLatencyMs: number;
  /** `fail`: the gateway's own login retries give up after about 40 s (a stuck reauthentication). */
  reauthOutcome: 'succeed' | 'fail';
  /** The gateway refreshes the SSO every this long; `ssoExpires` counts down from 600 000 in between. */
  ssoRefreshMs: number;
  /** The longest a login lasts; then nobody is logged in (real: 24 h). */
  maxSessionMs: number;
  variant: BodyVariant;
}

export const DEFAULT_MODEL_SETTINGS: ModelSettings = {
  idleTimeoutMs: 300_000,
  reauthLatencyMs: 4_000,
  reauthOutcome: 'succeed',
  ssoRefreshMs: 300_000,
  maxSessionMs: 24 * 3_600_000,
  variant: 'current',
};

/** How long the gateway keeps retrying a login that fails before giving up (docs/gateway.md). */
export const REAUTH_GIVE_UP_MS = 40_000;
const SSO_WINDOW_MS = 600_000;
const COMPETE_FAIL = 'Force compete capability must be used together with compete flag';
const MAC = 'F4:03:43:DC:B4:60';
const SERVER_INFO = { serverName: 'JifZ34060', serverVersion: 'Build 10.33.1f, Feb 5, 2025 10:21:09 AM' };

/** The simulated user. */
export const SIM_USER = { userId: 123456789, userName: 'simuser1', paper: true, account: 'DU1234567' } as const;

/**
 * What `/iserver/auth/status` shows while another login holds the session: `kicked`
 * (authenticated:false, competing:true) or `not-authenticated` (competing:false, as a plain drop).
 */
export type HeldShows = 'kicked' | 'not-authenticated';

/**
 * Another login (TWS, mobile, another gateway) that fights for the session: each time it loses
 * the session to this gateway, it takes it back `afterMs` later. A tug of war (docs/gateway.md).
 */
export interface Rival {
  readonly afterMs: number;
}

/** A JSON answer: status and body. */
export interface Reply {
  readonly status: number;
  readonly body: unknown;
}

interface PendingReauth {
  readonly until: number;
  readonly compete: boolean;
}

/** One simulated gateway session. */
export class GatewayModel {
  settings: ModelSettings;
  sso: SsoState = 'none';
  brokerage: BrokerageState = 'disconnected';
  fail = '';
  session = '';
  #ssoStartedAt = 0;
  #lastActivity = 0;
  #pending: PendingReauth | undefined;
  /** True while another login holds (or contends for) the session. */
  #rivalHolds = false;
  #rival: Rival | undefined;
  #heldShows: HeldShows = 'kicked';
  #takeBackAt: number | undefined;
  /** How many times the other login took the session back. */
  takeBacks = 0;
  readonly #now: () => number;

  constructor(now: () => number, settings: Partial<ModelSettings> = {}) {
    this.#now = now;
    this.settings = { ...DEFAULT_MODEL_SETTINGS, ...settings };
    this.#lastActivity = now();
  }

  /**
   * A person logged in through the login page: SSO valid, brokerage session authenticated. The
   * gateway's own login competes, so it takes the session from another login too.
   */
  login(): void {
    const now = this.#now();
    this.sso = 'valid';
    this.fail = '';
    this.#ssoStartedAt = now;
    this.#lastActivity = now;
    this.#pending = undefined;
    this.#takeOver(now);
  }

  /** `/logout`: the brokerage session ends and so does the login. */
  logout(): void {
    this.sso = this.sso === 'none' ? 'none' : 'ended';
    this.brokerage = 'disconnected';
    this.#pending = undefined;
  }

  /** The login ends altogether (expiry, weekly token reset): 401 everywhere. */
  expireSso(): void {
    this.sso = 'none';
    this.brokerage = 'disconnected';
    this.#pending = undefined;
  }

  /** The brokerage session drops (idle timeout, daily reset) while the login stays valid. */
  drop(): void {
    this.brokerage = 'disconnected';
    this.#pending = undefined;
  }

  /** Connected to IBKR but not authenticated: tickle answers `{"error":"no session"}`. */
  unauthenticate(): void {
    this.brokerage = 'connected';
    this.#pending = undefined;
  }

  /**
   * Another login (TWS, mobile) arrives: it takes the session (`kicked`, shown as `shows` says) or
   * competes for it. With a `rival`, it takes the session back each time it loses it; without, it
   * gives up when it loses.
   */
  compete(kicked: boolean, rival?: Rival, shows: HeldShows = 'kicked'): void {
    this.#heldShows = shows;
    this.brokerage = kicked ? (shows === 'kicked' ? 'kicked' : 'connected') : 'competing';
    this.#pending = undefined;
    this.#rivalHolds = true;
    this.#rival = rival;
    this.#takeBackAt = undefined;
  }

  /** The other login stops fighting for the session (it keeps it if it holds it). */
  endRivalry(): void {
    this.#rival = undefined;
    this.#takeBackAt = undefined;
  }

  /** Counts a request as activity (any API request keeps the session from idling out). */
  touch(): void {
    this.#lastActivity = this.#now();
  }

  /** Applies what time has done: reauthentication finished, idle timeout, login expiry. */
  settle(): void {
    const now = this.#now();
    if (this.sso === 'valid' && now >= this.#ssoStartedAt + this.settings.maxSessionMs) this.expireSso();
    if (this.#pending !== undefined && now >= this.#pending.until) {
      const { compete, until } = this.#pending;
      this.#pending = undefined;
      this.#lastActivity = Math.max(this.#lastActivity, until);
      if (this.sso === 'valid') this.#finishReauth(compete, until);
    }
    if (this.#takeBackAt !== undefined && now >= this.#takeBackAt) {
      this.#takeBackAt = undefined;
      if (this.#rival !== undefined && this.brokerage === 'authenticated') {
        this.brokerage = this.#heldShows === 'kicked' ? 'kicked' : 'connected';
        this.#rivalHolds = true;
        this.takeBacks += 1;
      }
    }
    const live = this.brokerage === 'authenticated' || this.brokerage === 'competing';
    if (live && this.#pending === undefined && now - this.#lastActivity >= this.settings.idleTimeoutMs) {
      this.brokerage = 'disconnected';
    }
  }

  #finishReauth(compete: boolean, at: number): void {
    if (this.#rivalHolds && !compete) {
      this.fail = COMPETE_FAIL;
      return;
    }
    if (this.settings.reauthOutcome === 'fail') {
      this.brokerage = 'connected';
      return;
    }
    this.fail = '';
    this.#takeOver(at);
  }

  /** This gateway holds the session now; another login that fights back takes it back later. */
  #takeOver(at: number): void {
    if (this.#rivalHolds && this.#rival !== undefined) this.#takeBackAt = at + this.#rival.afterMs;
    this.#rivalHolds = false;
    this.brokerage = 'authenticated';
    this.session = randomBytes(16).toString('hex');
  }

  /** True while a reauthentication is under way. */
  get reauthenticating(): boolean {
    return this.#pending !== undefined;
  }

  /** Milliseconds left of the SSO window, as `ssoExpires` and `EXPIRES` report it. */
  ssoExpires(): number {
    if (this.sso !== 'valid') return SSO_WINDOW_MS;
    return SSO_WINDOW_MS - (Math.max(0, this.#now() - this.#ssoStartedAt) % this.settings.ssoRefreshMs);
  }

  /**
   * `/iserver/reauthenticate` (`compete` true: the gateway's own login competes whenever it is
   * not authenticated) or `/iserver/auth/ssodh/init` (`compete` as the body asks).
   */
  reauthenticate(compete: boolean, viaInit: boolean): Reply {
    if (this.sso !== 'valid') return { status: 200, body: { error: 'not logged in' } };
    const latency =
      this.settings.reauthOutcome === 'fail'
        ? Math.max(REAUTH_GIVE_UP_MS, this.settings.reauthLatencyMs)
        : this.settings.reauthLatencyMs;
    const alreadyIn = this.brokerage === 'authenticated';
    if (!alreadyIn) {
      this.#pending = { until: this.#now() + latency, compete };
      if (this.brokerage === 'disconnected') this.brokerage = 'connected';
    }
    return viaInit ? { status: 200, body: this.authStatus() } : { status: 200, body: { message: 'triggered' } };
  }

  /** The flags of `authStatus` in the current state. */
  #flags(): { authenticated: boolean; competing: boolean; connected: boolean } {
    switch (this.brokerage) {
      case 'authenticated':
        return { authenticated: true, competing: false, connected: true };
      case 'competing':
        return { authenticated: true, competing: true, connected: true };
      case 'kicked':
        return { authenticated: false, competing: true, connected: true };
      case 'connected':
        return { authenticated: false, competing: false, connected: true };
      case 'disconnected':
        return { authenticated: false, competing: false, connected: false };
    }
  }

  /** The `authStatus` object (`/iserver/auth/status`), shaped for the configured build. */
  authStatus(): Record<string, unknown> {
    const flags = this.#flags();
    const base: Record<string, unknown> = { ...flags, message: '', MAC, serverInfo: { ...SERVER_INFO } };
    if (this.settings.variant === 'current')
      return { ...base, established: flags.authenticated, fail: this.fail, hardware_info: `2486818e|${MAC}` };
    if (this.settings.variant === '2023') return { ...base, fail: this.fail };
    return { ...base, prompts: [] };
  }

  /** `/tickle`. */
  tickle(): Reply {
    if (this.brokerage === 'connected') return { status: 200, body: { error: 'no session' } };
    const body: Record<string, unknown> = {
      session: this.session || randomBytes(16).toString('hex'),
      ssoExpires: this.ssoExpires(),
      collission: false,
      userId: SIM_USER.userId,
      hmds: this.settings.variant === 'current' ? { error: 'no bridge' } : { authStatus: [] },
      iserver: { authStatus: this.authStatus() },
    };
    if (this.settings.variant === '2021') body['tickle'] = true;
    return { status: 200, body };
  }

  /** `/sso/validate`; `flaky` answers RESULT:false although the session works (seen in the wild). */
  validate(flaky = false): Reply {
    if (this.sso !== 'valid' || flaky) return { status: 200, body: { RESULT: false, AUTH_TIME: 0, EXPIRES: 0 } };
    const now = this.#now();
    return {
      status: 200,
      body: {
        USER_ID: SIM_USER.userId,
        USER_NAME: SIM_USER.userName,
        RESULT: true,
        AUTH_TIME: this.#ssoStartedAt,
        SF_ENABLED: false,
        IS_FREE_TRIAL: false,
        CREDENTIAL: SIM_USER.userName,
        IP: '127.0.0.1',
        EXPIRES: this.ssoExpires(),
        QUALIFIED_FOR_MOBILE_AUTH: null,
        LANDING_APP: 'UNIVERSAL',
        IS_MASTER: false,
        lastAccessed: now,
        LOGIN_TYPE: SIM_USER.paper ? 2 : 1,
        PAPER_USER_NAME: SIM_USER.userName,
        features: {
          env: 'PROD',
          wlms: true,
          realtime: true,
          bond: true,
          optionChains: true,
          calendar: true,
          newMf: true,
        },
        region: 'NJ',
      },
    };
  }

  /**
   * Any other `/iserver/*` call, as brokerage calls answer: after a drop (no brokerage session at
   * all) 401 `not authenticated`; connected but not authenticated, 400 `Init session first`
   * (both captured, docs/gateway.md). `/iserver/accounts` is the one the simulator knows.
   */
  iserver(api: string): Reply {
    if (this.brokerage === 'disconnected')
      return { status: 401, body: { error: 'not authenticated', statusCode: 401 } };
    if (api !== '/iserver/accounts') return { status: 404, body: `Unknown path ${api}` };
    if (this.brokerage !== 'authenticated')
      return { status: 400, body: { error: 'Init session first', statusCode: 400 } };
    return {
      status: 200,
      body: { accounts: [SIM_USER.account], selectedAccount: SIM_USER.account, isPaper: SIM_USER.paper },
    };
  }

  /** A summary for the control interface. */
  snapshot(): Record<string, unknown> {
    return {
      sso: this.sso,
      brokerage: this.brokerage,
      reauthenticating: this.reauthenticating,
      fail: this.fail,
      otherLogin: {
        holdsSession: this.#rivalHolds,
        takesBackAfterMs: this.#rival?.afterMs ?? null,
        takeBacks: this.takeBacks,
      },
      ssoExpires: this.ssoExpires(),
      idleForMs: this.#now() - this.#lastActivity,
      settings: { ...this.settings },
    };
  }
}
