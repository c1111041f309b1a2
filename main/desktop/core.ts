/**
 * The desktop app without Electron: the keeper with its settings, history, trust store and
 * notifications, the actions of the menu and the window, and the state they show. The Electron
 * adapters (tray, IPC, windows, login items, power) only connect this to Electron's APIs, so all
 * of it runs and is tested in plain Node.
 */
import { EventEmitter } from 'node:events';
import type { Action, DetailsState, SaveResult } from '../contract.ts';
import { accessDeniedExplainer } from '../gateway/access-denied.ts';
import { GatewayClient } from '../session/gateway-client.ts';
import { History } from '../session/history.ts';
import { Keeper, type ActionResult, type KeeperStatus } from '../session/keeper.ts';
import { NotificationPolicy, type Notification } from '../session/notifications.ts';
import type { NotificationSink } from '../session/notifier.ts';
import { fileLedger } from '../session/pacing.ts';
import { fileBudget, RecoveryBudget } from '../session/policy.ts';
import { redactBody } from '../session/redact.ts';
import { checkSettings, type Settings, type SettingsFile } from '../session/settings.ts';
import { STATE_INFO } from '../session/states.ts';
import type { Clock, Scheduler } from '../session/time.ts';
import { normalizeFingerprint, publiclyKnownNotice } from '../session/tls.ts';
import { TrustStore } from '../session/trust-store.ts';

export interface CoreDeps {
  readonly configDir: string;
  readonly settings: Pick<SettingsFile, 'read' | 'write'>;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly notifier: NotificationSink;
  /** Opens an https URL in the user's browser (shell.openExternal on the desktop). */
  readonly openExternal: (url: string) => Promise<void>;
  /** Applies the launch-at-login setting to the system. */
  readonly applyLaunchAtLogin: (enabled: boolean) => void;
  /** Per-request timeout. */
  readonly timeoutMs?: number;
  /** The pacer's waits (virtual time in tests). */
  readonly sleep?: (ms: number) => Promise<unknown>;
}

export interface CoreEvents {
  state: [DetailsState];
  log: [string];
}

export class DesktopCore extends EventEmitter<CoreEvents> {
  readonly #deps: CoreDeps;
  readonly #trust: TrustStore;
  readonly #history: History;
  #settings: Settings;
  #settingsProblems: string[];
  #client!: GatewayClient;
  #keeper!: Keeper;
  #policy!: NotificationPolicy;

  constructor(deps: CoreDeps) {
    super();
    this.#deps = deps;
    this.#trust = new TrustStore(deps.configDir);
    this.#history = new History(deps.configDir);
    const read = deps.settings.read();
    this.#settings = read.settings;
    this.#settingsProblems = read.problems;
    this.#build();
  }

  /** The keeper, for the adapters that only poke it (power events). */
  get keeper(): Keeper {
    return this.#keeper;
  }

  get settings(): Settings {
    return this.#settings;
  }

  start(): void {
    this.#keeper.start();
  }

  async stop(): Promise<void> {
    await this.#keeper.stop();
    await this.#client.close();
  }

  /** Everything the window shows, now. */
  state(): DetailsState {
    const status = redactBody(this.#keeper.status()) as KeeperStatus;
    const pin = this.#trust.get(this.#client.address.origin);
    return {
      status,
      info: STATE_INFO[status.state],
      history: this.#history.read(this.#deps.clock.wall() - 86_400_000).transitions,
      settings: this.#settings,
      settingsProblems: this.#settingsProblems,
      trust: pin ? { fingerprint256: pin.fingerprint256, source: pin.source, recordedAt: pin.recordedAt, notice: publiclyKnownNotice(pin.fingerprint256) } : null,
      now: new Date(this.#deps.clock.wall()).toISOString(),
    };
  }

  /** One of the menu's and the window's actions. */
  async act(action: Action): Promise<ActionResult> {
    const keeper = this.#keeper;
    switch (action) {
      case 'check':
        await keeper.checkNow();
        return { ok: true, message: 'Checked.' };
      case 'reauthenticate':
        return keeper.reauthenticate();
      case 'take-over':
        return keeper.takeOver();
      case 'logout':
        return keeper.logout();
      case 'pause':
        return keeper.pause();
      case 'resume':
        return keeper.resume();
      case 'open-login-page':
        return this.openLoginPage();
    }
  }

  /** Opens the configured gateway's login page in the browser, and checks every 5 s meanwhile. */
  async openLoginPage(): Promise<ActionResult> {
    const origin = this.#keeper.openLoginPage();
    const url = `${origin}/`;
    if (!/^https:\/\//.test(url)) return { ok: false, message: `Not opened: ${url} is not an https address.` };
    await this.#deps.openExternal(url);
    return { ok: true, message: `Opened ${url} in your browser: log in there (the keeper checks every 5 s).` };
  }

  /** Checks and saves a change of settings; a bad one is refused with a message per field. */
  async saveSettings(change: unknown): Promise<SaveResult> {
    const check = checkSettings(change, this.#settings);
    if (!check.ok) return check;
    const before = this.#settings;
    const next = check.settings;
    this.#deps.settings.write(next);
    this.#settings = next;
    this.#settingsProblems = [];
    if (next.launchAtLogin !== before.launchAtLogin && next.launchAtLogin !== null) this.#deps.applyLaunchAtLogin(next.launchAtLogin);
    if (next.gateway !== before.gateway) {
      await this.stop();
      this.#build();
      this.start();
    } else if (next.intervalSeconds !== before.intervalSeconds) {
      this.#keeper.setIntervalMs(next.intervalSeconds * 1_000);
    }
    if (JSON.stringify(next.notifications) !== JSON.stringify(before.notifications)) this.#policy = this.#newPolicy();
    this.#emitState();
    return { ok: true, settings: next };
  }

  /**
   * Trusts the certificate the gateway presents now, named by the fingerprint the user was shown;
   * a different one (the gateway changed again meanwhile) is refused. The keeper notices at once.
   */
  async acceptCertificate(fingerprint: string): Promise<ActionResult> {
    let wanted: string;
    try {
      wanted = normalizeFingerprint(fingerprint);
    } catch (error) {
      return { ok: false, message: (error as Error).message };
    }
    const presented = this.#keeper.status().facts.presentedFingerprint;
    if (presented !== wanted) return { ok: false, message: 'Not trusted: that is not the certificate the gateway presents now. Check again.' };
    this.#trust.record(this.#client.address.origin, { fingerprint256: wanted, source: 'user' });
    await this.#keeper.checkNow();
    return { ok: true, message: `Now trusting SHA-256 ${wanted}.` };
  }

  /** Forgets the trusted certificate of the configured gateway (it is trusted again on next use). */
  forgetCertificate(): ActionResult {
    const had = this.#trust.forget(this.#client.address.origin);
    this.#emitState();
    return had ? { ok: true, message: 'Forgot the trusted certificate: the next connection trusts the one it sees, on first use.' } : { ok: true, message: 'No certificate was trusted for this gateway.' };
  }

  #build(): void {
    const { deps } = { deps: this.#deps };
    this.#client = new GatewayClient({
      gateway: this.#settings.gateway,
      trust: this.#trust,
      pacing: fileLedger(deps.configDir),
      now: () => deps.clock.wall(),
      timeoutMs: deps.timeoutMs,
      sleep: deps.sleep,
      onFirstUseTrust: ({ origin, fingerprint256 }) => this.emit('log', `Trusted the certificate of ${origin} on first use: SHA-256 ${fingerprint256}`),
      explainAccessDenied: accessDeniedExplainer(this.#settings.gatewayDir ?? undefined, "The gateway's folder in the settings (gatewayDir)"),
    });
    this.#keeper = new Keeper({
      client: this.#client,
      clock: deps.clock,
      scheduler: deps.scheduler,
      budget: new RecoveryBudget(fileBudget(deps.configDir)),
      intervalMs: this.#settings.intervalSeconds * 1_000,
    });
    this.#policy = this.#newPolicy();
    this.#keeper.on('transition', (t) => {
      try {
        this.#history.append(t);
      } catch (error) {
        this.emit('log', `Could not write the history (${(error as Error).message}).`);
      }
      if (t.state === 'ready' && this.#settings.launchAtLogin === null) void this.#launchAtLoginByDefault();
    });
    this.#keeper.on('status', (status) => {
      for (const note of this.#policy.update(status, deps.clock.monotonic())) void this.#show(note);
      this.#emitState();
    });
    this.#keeper.on('log', (line) => this.emit('log', line));
  }

  #newPolicy(): NotificationPolicy {
    const off = Object.entries(this.#settings.notifications).filter(([, on]) => !on).map(([kind]) => kind);
    return new NotificationPolicy({ disabled: off as never });
  }

  async #show(note: Notification): Promise<void> {
    await this.#deps.notifier.show(note);
  }

  /** After the first successful session, launch at login becomes on unless the user decided. */
  async #launchAtLoginByDefault(): Promise<void> {
    await this.saveSettings({ launchAtLogin: true });
  }

  #emitState(): void {
    this.emit('state', this.state());
  }
}
