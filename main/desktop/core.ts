/**
 * The desktop app without Electron: the keeper with its settings, history, trust store and
 * notifications, the actions of the menu and the window, and the state they show. The Electron
 * adapters (tray, IPC, windows, login items, power) only connect this to Electron's APIs, so all
 * of it runs and is tested in plain Node.
 */
import { EventEmitter } from 'node:events';
import {
  NO_DESKTOP,
  type Action,
  type DesktopInfo,
  type DetailsState,
  type FolderChoice,
  type GatewayLog,
  type SaveResult,
} from '../contract.ts';
import { accessDeniedExplainer } from '../gateway/access-denied.ts';
import { GatewayClient } from '../session/gateway-client.ts';
import { History } from '../session/history.ts';
import { Keeper, type ActionResult, type KeeperStatus } from '../session/keeper.ts';
import { describeHolder, GatewayLease } from '../session/lease.ts';
import { LeasedKeeper } from '../session/leased-keeper.ts';
import { NOTIFICATION_KINDS, NotificationPolicy, type Notification } from '../session/notifications.ts';
import type { NotificationSink } from '../session/notifier.ts';
import { fileLedger } from '../session/pacing.ts';
import { fileBudget, RecoveryBudget } from '../session/policy.ts';
import { pushFor } from '../session/push.ts';
import { redactBody } from '../session/redact.ts';
import { checkSettings, DEFAULT_SETTINGS, type Settings, type SettingsFile } from '../session/settings.ts';
import { STATE_INFO } from '../session/states.ts';
import type { Clock, Scheduler } from '../session/time.ts';
import { normalizeFingerprint, publiclyKnownNotice } from '../session/tls.ts';
import { TrustStore } from '../session/trust-store.ts';
import { FirstRunStep } from './first-run.ts';
import { DesktopGateway, type GatewayAction } from './gateway.ts';
import { checkChosenFolder, gatewayLogFor } from './gateway-folder.ts';
import type { LoginTarget } from './login-policy.ts';

export interface CoreDeps {
  readonly configDir: string;
  readonly settings: Pick<SettingsFile, 'read' | 'write'>;
  /** How often a core that follows another keeper reads its state (default 1 s). */
  readonly followEveryMs?: number;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly notifier: NotificationSink;
  /** Opens an https URL in the user's browser (shell.openExternal on the desktop). */
  readonly openExternal: (url: string) => Promise<void>;
  /** Opens a file with the system's viewer; resolves '' or what went wrong (shell.openPath on the desktop). */
  readonly openPath?: (file: string) => Promise<string>;
  /** Asks the person for a folder (a folder dialog over the window); undefined when they cancelled. */
  readonly chooseFolder?: (defaultPath: string | undefined) => Promise<string | undefined>;
  /**
   * Opens the app's own login window on the gateway's login page (main/desktop/login-window.ts).
   * Without it, "Log in" opens the login page in the browser.
   */
  readonly openLoginWindow?: (target: LoginTarget) => ActionResult | Promise<ActionResult>;
  /** Applies the launch-at-login setting to the system. */
  readonly applyLaunchAtLogin: (enabled: boolean) => void;
  /** What only the desktop knows (launch at login read back, the tray, the log file). */
  readonly desktop?: () => DesktopInfo;
  /** Per-request timeout. */
  readonly timeoutMs?: number;
  /** The pacer's waits (virtual time in tests). */
  readonly sleep?: (ms: number) => Promise<unknown>;
  /** Hold the gateway's WebSocket while ready, to hear of a drop at once (main/session/push.ts). Default true. */
  readonly push?: boolean;
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
  #unreadableSettings: string | undefined;
  #client!: GatewayClient;
  #keeper!: Keeper;
  /** The keeper behind the gateway's lease: it keeps the session, or follows the process that does. */
  #seat!: LeasedKeeper;
  #policy!: NotificationPolicy;
  #notificationProblem: string | null = null;
  /** IBKR's gateway, when the app runs it (setting runGateway; main/desktop/gateway.ts). */
  readonly #gateway: DesktopGateway;
  /** The window's first-run step: no gateway folder and no gateway answering (main/desktop/first-run.ts). */
  readonly #firstRun: FirstRunStep;

  constructor(deps: CoreDeps) {
    super();
    this.#deps = deps;
    this.#trust = new TrustStore(deps.configDir);
    this.#history = new History(deps.configDir);
    let read: ReturnType<SettingsFile['read']>;
    try {
      read = deps.settings.read();
    } catch (error) {
      // A settings.json that cannot be read (not JSON, not an object, too large) is named in the
      // window, the defaults stand in, and nothing is written over it (saving is refused).
      read = { settings: DEFAULT_SETTINGS, problems: [(error as Error).message] };
      this.#unreadableSettings = (error as Error).message;
    }
    this.#settings = read.settings;
    this.#settingsProblems = read.problems;
    this.#gateway = new DesktopGateway({
      configDir: deps.configDir,
      clock: deps.clock,
      scheduler: deps.scheduler,
      onChange: () => this.#emitState(),
      onLogin: () => void this.#keeper.checkNow(),
      onProblem: (reason) => {
        this.#keeper.setGatewayProblem(reason);
        if (reason !== undefined) void this.#keeper.checkNow();
      },
      log: (line) => this.emit('log', line),
    });
    this.#firstRun = new FirstRunStep({ now: () => deps.clock.monotonic(), onChange: () => this.#emitState() });
    this.#build();
    void this.#gateway.apply(this.#settings, false); // known (stopped) before start()
  }

  /** The keeper, for the adapters that only poke it (power events). */
  get keeper(): Keeper {
    return this.#keeper;
  }

  get settings(): Settings {
    return this.#settings;
  }

  start(): void {
    this.#seat.start();
    void this.#gateway.apply(this.#settings, true);
  }

  /**
   * On quit: the gateway the app runs (unless "Leave it running when I quit") and the keeper, at
   * once and side by side: the gateway's SIGTERM goes out before anything is awaited, since a
   * check under way may hang up to its timeout and a quit waits only QUIT_WITHIN_MS (startup.ts).
   */
  async stop(): Promise<void> {
    const gateway = this.#gateway.quit(this.#settings.leaveGatewayRunning);
    await Promise.all([this.#stopKeeper(), gateway]);
  }

  async #stopKeeper(): Promise<void> {
    await this.#seat.stop();
    await this.#client.close();
  }

  /** Start, Stop or Restart the gateway the app runs (the tray's and the window's gateway actions). */
  gatewayAction(action: GatewayAction): Promise<ActionResult> {
    return this.#gateway.act(action);
  }

  /** Everything the window shows, now. */
  state(): DetailsState {
    const status = redactBody(this.#seat.status()) as KeeperStatus;
    let pin;
    try {
      pin = this.#trust.get(this.#client.address.origin);
    } catch {
      pin = undefined; // a broken trust.json: the keeper's state names it
    }
    return {
      status,
      role: this.#seat.role(),
      info: STATE_INFO[status.state],
      history: this.#recentHistory(),
      settings: this.#settings,
      settingsProblems: this.#settingsProblems,
      gateway: this.#gateway.facts(),
      gatewaySetup: this.#firstRun.state(),
      gatewayLog: this.#gatewayLog(),
      trust: pin
        ? {
            fingerprint256: pin.fingerprint256,
            source: pin.source,
            recordedAt: pin.recordedAt,
            notice: publiclyKnownNotice(pin.fingerprint256, this.#settings.gatewayDir),
          }
        : null,
      notificationProblem: this.#notificationProblem,
      desktop: this.#deps.desktop?.() ?? NO_DESKTOP,
    };
  }

  /** One of the menu's and the window's actions. */
  async act(action: Action): Promise<ActionResult> {
    const keeper = this.#keeper;
    const role = this.#seat.role();
    if (role.role === 'following' && action !== 'open-login-page') {
      // Another process keeps this gateway's session: this app only shows its state.
      const who = role.holder === undefined ? 'Another keeper' : describeHolder(role.holder);
      const what =
        action === 'check'
          ? 'It checks the session; this app shows what it sees'
          : 'Do that there, or stop it: this app takes over at once';
      return { ok: action === 'check', message: `${who} keeps this gateway's session. ${what}.` };
    }
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

  /**
   * "Log in": the app's login window on the gateway's login page, trusting exactly the pinned
   * certificate (the browser where there is no window); the keeper checks every 5 s meanwhile.
   */
  async openLoginPage(): Promise<ActionResult> {
    const openWindow = this.#deps.openLoginWindow;
    if (openWindow === undefined) return this.openLoginPageInBrowser();
    const origin = this.#keeper.openLoginPage();
    let pin = this.#pin(origin);
    // Not seen yet: one check trusts a gateway on this computer on first use, as the keeper does.
    if (pin === undefined && this.#seat.role().role === 'keeping') {
      await this.#keeper.checkNow();
      pin = this.#pin(origin);
    }
    const state = this.#seat.status().state;
    if (state === 'untrusted-certificate')
      return {
        ok: false,
        message:
          'Not opened: the gateway presents a certificate that is not the trusted one. Compare both fingerprints ' +
          'in the Status view and trust the new one only if you know why it changed, then log in.',
      };
    return openWindow({ origin, fingerprint256: pin?.fingerprint256, state });
  }

  /** Opens the configured gateway's login page in the browser, and checks every 5 s meanwhile. */
  async openLoginPageInBrowser(): Promise<ActionResult> {
    const origin = this.#keeper.openLoginPage();
    const url = `${origin}/`;
    if (!/^https:\/\//.test(url)) return { ok: false, message: `Not opened: ${url} is not an https address.` };
    await this.#deps.openExternal(url);
    return { ok: true, message: `Opened ${url} in your browser: log in there (the keeper checks every 5 s).` };
  }

  #pin(origin: string): { fingerprint256: string } | undefined {
    try {
      return this.#trust.get(origin);
    } catch {
      return undefined; // a broken trust.json: the keeper's state names it
    }
  }

  /** Checks and saves a change of settings; a bad one is refused with a message per field. */
  async saveSettings(change: unknown): Promise<SaveResult> {
    const folder = await this.#folderProblem(change);
    const check = checkSettings(change, this.#settings);
    if (!check.ok) return { ok: false, errors: { ...check.errors, ...folder } };
    if (folder.gatewayDir !== undefined) return { ok: false, errors: folder };
    if (this.#unreadableSettings !== undefined)
      return { ok: false, errors: { gateway: `Not saved: ${this.#unreadableSettings}` } };
    const before = this.#settings;
    const next = check.settings;
    this.#deps.settings.write(next);
    this.#settings = next;
    this.#settingsProblems = [];
    if (next.launchAtLogin !== before.launchAtLogin && next.launchAtLogin !== null)
      this.#deps.applyLaunchAtLogin(next.launchAtLogin);
    await this.#gateway.apply(next, true);
    if (next.gateway !== before.gateway) {
      await this.#stopKeeper();
      this.#build();
      this.start();
    } else if (next.intervalSeconds !== before.intervalSeconds) {
      this.#keeper.setIntervalMs(next.intervalSeconds * 1_000);
    }
    if (JSON.stringify(next.notifications) !== JSON.stringify(before.notifications)) this.#policy = this.#newPolicy();
    this.#firstRun.update(next, this.#client.address, this.#seat.status());
    this.#emitState();
    return { ok: true, settings: next };
  }

  /**
   * A new gateway folder is checked as "Choose…" checks it (IBKR's gateway, a conf.yaml it can
   * read), so the field's message is the same whichever way the folder came in.
   */
  async #folderProblem(change: unknown): Promise<{ gatewayDir?: string }> {
    const dir = (change as { gatewayDir?: unknown } | null)?.gatewayDir;
    if (typeof dir !== 'string' || dir === this.#settings.gatewayDir) return {};
    const check = await checkChosenFolder(dir);
    return check.ok ? {} : { gatewayDir: check.message };
  }

  /**
   * "Choose…" for the gateway's folder: the person picks a folder, which is checked at once and
   * described (the port its conf.yaml gives, the Java that would run it). Nothing is saved: the
   * window saves it with the other settings.
   */
  async chooseGatewayFolder(defaultPath: string | null): Promise<FolderChoice> {
    const choose = this.#deps.chooseFolder;
    if (choose === undefined) throw new Error('this app has no folder dialog here: type the folder instead');
    const dir = await choose(defaultPath ?? this.#settings.gatewayDir ?? undefined);
    if (dir === undefined) return { chosen: false };
    const check = await checkChosenFolder(dir);
    if (!check.ok) return { chosen: true, dir: check.dir, ok: false, message: check.message };
    const notes = [`IBKR's gateway: its conf.yaml has it listen on port ${check.port}.`];
    const address = this.#client.address;
    if (address.loopback && address.port !== check.port)
      notes.push(`The gateway address in Settings has port ${address.port}: make the two the same.`);
    try {
      const { findJava, MINIMUM_JAVA } = await import('../gateway/java.ts');
      const java = await findJava();
      notes.push(
        java.supported
          ? `Java ${java.version?.text} runs it.`
          : `The Java found (${java.version?.text ?? 'version unknown'}) is too old: ` +
              `it needs ${MINIMUM_JAVA} or later.`,
      );
    } catch (error) {
      notes.push((error as Error).message);
    }
    return { chosen: true, dir: check.dir, ok: true, message: notes.join(' ') };
  }

  /** "Show gateway log": opens the gateway's log (console or its own of today) with the system's viewer. */
  async showGatewayLog(): Promise<ActionResult> {
    const log = this.#gatewayLog();
    if (log.file === null) return { ok: false, message: log.why ?? "Set the gateway's folder in Settings first." };
    const open = this.#deps.openPath;
    if (open === undefined) return { ok: false, message: `This app cannot open files here: the log is ${log.file}.` };
    const problem = await open(log.file);
    return problem === ''
      ? { ok: true, message: `Opened ${log.file}.` }
      : { ok: false, message: `Could not open ${log.file}: ${problem}` };
  }

  #gatewayLog(): GatewayLog {
    const facts = this.#gateway.facts();
    // A gateway someone else started (attached, not the app's): its console is not the app's file.
    const appRunsIt = facts !== null && !(facts.state === 'attached' && !facts.owned);
    return gatewayLogFor({
      gatewayDir: this.#settings.gatewayDir,
      consoleLog: appRunsIt ? facts.consoleLog : undefined,
      now: this.#deps.clock.wall(),
    });
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
    const presented = this.#seat.status().facts.presentedFingerprint;
    if (presented !== wanted)
      return { ok: false, message: 'Not trusted: that is not the certificate the gateway presents now. Check again.' };
    this.#trust.record(this.#client.address.origin, { fingerprint256: wanted, source: 'user' });
    await this.#keeper.checkNow();
    return { ok: true, message: `Now trusting SHA-256 ${wanted}.` };
  }

  /** Forgets the trusted certificate of the configured gateway (it is trusted again on next use). */
  /**
   * Gives the gateway in the settings' folder a key and certificate of its own instead of IBKR's
   * publicly known one (as `ibkr-keeper gateway certificate`), pinned for its address; the gateway
   * presents it from its next start.
   */
  async makeGatewayCertificate(): Promise<ActionResult> {
    const dir = this.#settings.gatewayDir;
    if (dir === null) {
      return {
        ok: false,
        message: "Set the gateway's folder in Settings first (where bin/run.sh and root/conf.yaml are), and save.",
      };
    }
    try {
      // Loaded on demand: it brings the YAML reader.
      const { makeGatewayCertificate } = await import('../gateway/certificate.ts');
      const made = await makeGatewayCertificate({ dir, trust: this.#trust });
      this.#emitState();
      return {
        ok: true,
        message:
          `The gateway has a certificate of its own ` +
          `(SHA-256 ${made.fingerprint256}), already trusted. Restart the gateway to use ` +
          `it; ${made.conf} was kept as ${made.backup}.`,
      };
    } catch (error) {
      return { ok: false, message: (error as Error).message };
    }
  }

  forgetCertificate(): ActionResult {
    const had = this.#trust.forget(this.#client.address.origin);
    this.#emitState();
    return had
      ? {
          ok: true,
          message: 'Forgot the trusted certificate: the next connection trusts the one it sees, on first use.',
        }
      : { ok: true, message: 'No certificate was trusted for this gateway.' };
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
      onFirstUseTrust: ({ origin, fingerprint256 }) =>
        this.emit('log', `Trusted the certificate of ${origin} on first use: SHA-256 ${fingerprint256}`),
      explainAccessDenied: accessDeniedExplainer(
        this.#settings.gatewayDir ?? undefined,
        "The gateway's folder in the settings (gatewayDir)",
      ),
    });
    this.#keeper = new Keeper({
      client: this.#client,
      clock: deps.clock,
      scheduler: deps.scheduler,
      budget: new RecoveryBudget(fileBudget(deps.configDir)),
      intervalMs: this.#settings.intervalSeconds * 1_000,
      push: deps.push === false ? undefined : pushFor(this.#client, deps.clock, deps.scheduler, deps.timeoutMs),
    });
    this.#seat = new LeasedKeeper({
      keeper: this.#keeper,
      lease: new GatewayLease({
        configDir: deps.configDir,
        origin: this.#client.address.origin,
        key: this.#client.address.ledgerKey,
        program: 'desktop',
      }),
      clock: deps.clock,
      scheduler: deps.scheduler,
      followEveryMs: deps.followEveryMs,
    });
    this.#policy = this.#newPolicy();
    this.#seat.on('transition', (t) => {
      if (this.#seat.role().role === 'keeping') {
        try {
          this.#history.append(t);
        } catch (error) {
          this.emit('log', `Could not write the history (${(error as Error).message}).`);
        }
      }
      if (t.state === 'ready' && this.#settings.launchAtLogin === null) this.#launchAtLoginByDefault();
    });
    this.#seat.on('status', (status) => {
      this.#firstRun.update(this.#settings, this.#client.address, status);
      for (const note of this.#policy.update(status, deps.clock.monotonic())) void this.#show(note);
      this.#emitState();
    });
    this.#seat.on('role', (role) => {
      if (role.role === 'following' && role.holder !== undefined)
        this.emit(
          'log',
          `Following ${describeHolder(role.holder)}, which keeps the session ` +
            `of ${this.#client.address.origin}: this app sends nothing and takes over when it stops.`,
        );
      this.#emitState();
    });
    this.#seat.on('log', (line) => this.emit('log', line));
  }

  /** The last 24 hours of changes; none when the history file cannot be read (its name goes to the log, once). */
  #recentHistory(): DetailsState['history'] {
    try {
      return this.#history.read(this.#deps.clock.wall() - 86_400_000).transitions;
    } catch (error) {
      if (this.#historyProblem !== (error as Error).message) this.emit('log', (error as Error).message);
      this.#historyProblem = (error as Error).message;
      return [];
    }
  }

  #historyProblem = '';

  #newPolicy(): NotificationPolicy {
    return new NotificationPolicy({
      disabled: NOTIFICATION_KINDS.filter((kind) => !this.#settings.notifications[kind]),
    });
  }

  async #show(note: Notification): Promise<void> {
    try {
      await this.#deps.notifier.show(note);
    } catch (error) {
      this.notificationFailed(`Could not show the notification "${note.title}" (${(error as Error).message}).`);
    }
  }

  /**
   * A notification that could not be shown (the sink's `onError`): logged, and shown in the window
   * with what it would have said, so nothing the user should have been told is lost.
   */
  notificationFailed(message: string): void {
    const at = new Date(this.#deps.clock.wall()).toISOString();
    this.emit('log', message);
    this.#notificationProblem = `${message} At ${at}; the state above says what it was about.`;
    this.#emitState();
  }

  /**
   * After the first successful session, launch at login becomes on unless the user decided. Only
   * that key is written: the rest of settings.json (unknown keys, values the user has yet to fix)
   * stays exactly as it is.
   */
  #launchAtLoginByDefault(): void {
    if (this.#unreadableSettings !== undefined) return;
    try {
      this.#deps.settings.write({ launchAtLogin: true });
    } catch (error) {
      this.emit('log', `Launch at login not turned on: ${(error as Error).message}`);
      return;
    }
    this.#settings = { ...this.#settings, launchAtLogin: true };
    this.#deps.applyLaunchAtLogin(true);
    this.#emitState();
  }

  #emitState(): void {
    this.emit('state', this.state());
  }
}
