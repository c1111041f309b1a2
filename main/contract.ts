/**
 * The typed contract between the main process and the details window: every channel with its
 * request and response types, imported by main, preload and renderer alike (types only, so the
 * renderer carries none of the engine). A channel missing here is a compile error everywhere.
 */
import type { ActionResult, KeeperStatus, Transition } from './session/keeper.ts';
import type { KeeperRole } from './session/leased-keeper.ts';
import type { Settings, SettingsField } from './session/settings.ts';
import type { SessionState, StateInfo } from './session/states.ts';
import type { GatewayFacts } from './gateway/supervisor.ts';

/** Everything the details window shows. */
export interface DetailsState {
  readonly status: KeeperStatus;
  /** Whether this app keeps the session, or follows another keeper of the same gateway (pid, program). */
  readonly role: KeeperRole;
  readonly info: StateInfo;
  /** Changes of state in the last 24 hours, oldest first. */
  readonly history: Transition[];
  readonly settings: Settings;
  /** Values in settings.json that were bad and replaced by defaults. */
  readonly settingsProblems: string[];
  /** IBKR's gateway process when the app runs it (setting runGateway), else null. */
  readonly gateway: GatewayFacts | null;
  /**
   * The first-run step (main/desktop/first-run.ts): shown while no gateway folder is set, the
   * person did not say "I run the gateway myself", and no gateway answers at `address`; else null.
   */
  readonly gatewaySetup: { readonly address: string } | null;
  /** The gateway's log that "Show gateway log" opens, or why there is none (main/desktop/gateway-folder.ts). */
  readonly gatewayLog: GatewayLog;
  readonly trust: {
    readonly fingerprint256: string;
    readonly source: 'first-use' | 'user';
    readonly recordedAt: string;
    /** Set when it is IBKR's stock certificate, whose private key is public: what that means and the fix. */
    readonly notice?: string;
  } | null;
  /**
   * The last notification that could not be shown, and why (no notification service, a toast
   * refused): shown in the window, since the user was not told. Null while none failed.
   */
  readonly notificationProblem: string | null;
  /** What only the desktop knows: the system's launch-at-login state, the tray, the log file. */
  readonly desktop: DesktopInfo;
}

/** The operating system's launch-at-login state, read back from it, and a sentence for it. */
export interface LaunchAtLoginStatus {
  readonly state: 'on' | 'off' | 'requires-approval' | 'not-packaged';
  readonly text: string;
}

export interface DesktopInfo {
  readonly launchAtLogin: LaunchAtLoginStatus;
  /** Set where the desktop likely shows no tray icon: that this window is the way in, and how to get a tray. */
  readonly trayHint: string | null;
  /** The log file, where there is one. */
  readonly logFile: string | null;
}

/**
 * The log "Show gateway log" opens: the supervisor's console log when the app runs the gateway,
 * else the gateway folder's log of today. `file` is null, and `why` says why, while there is none.
 * `shown` is false where the app knows no gateway folder (nothing to offer).
 */
export interface GatewayLog {
  readonly shown: boolean;
  readonly file: string | null;
  readonly why: string | null;
}

/** The answer to "Choose…" for the gateway's folder: nothing chosen, or the folder and what its check found. */
export type FolderChoice =
  | { readonly chosen: false }
  | {
      readonly chosen: true;
      readonly dir: string;
      /** True when it is IBKR's gateway (bin/run.sh or bin\run.bat, root/conf.yaml that the gateway can read). */
      readonly ok: boolean;
      /** What was found, or what is wrong and which folder is expected. */
      readonly message: string;
    };

/** What a core without a desktop (tests, the window's harness) reports. */
export const NO_DESKTOP: DesktopInfo = {
  launchAtLogin: { state: 'not-packaged', text: 'Launch at login works only in the installed app.' },
  trayHint: null,
  logFile: null,
};

/** What a person can ask of the keeper, from the menu or the window. */
export const ACTIONS = [
  'check',
  'reauthenticate',
  'take-over',
  'logout',
  'pause',
  'resume',
  'open-login-page',
] as const;
export type Action = (typeof ACTIONS)[number];

/** Whether a control of the menu or the window is shown and usable, and why not. */
export interface ControlState {
  readonly visible: boolean;
  readonly enabled: boolean;
  /** Why it is disabled, in a sentence (a tooltip in the window). */
  readonly why?: string;
}

/**
 * The one rule for which actions the tray's menu and the window offer in a state, so the two
 * never disagree. Disabled: what the keeper would refuse or could not send (nothing goes to a
 * gateway whose certificate changed, nothing during a rate-limit penalty, nothing while paused).
 */
export function controlsFor(state: SessionState): Readonly<Record<Action, ControlState>> {
  const on: ControlState = { visible: true, enabled: true };
  const off = (why: string): ControlState => ({ visible: true, enabled: false, why });
  const blocked =
    state === 'paused'
      ? off('Keeping alive is paused: resume first.')
      : state === 'untrusted-certificate'
        ? off("The gateway's certificate changed: nothing is sent to it until you trust the new one.")
        : state === 'rate-limited'
          ? off('The gateway is rate-limiting: nothing is sent until the 10 minutes are over.')
          : undefined;
  return {
    check: state === 'paused' ? off('Keeping alive is paused: resume first.') : on,
    reauthenticate: blocked ?? (state === 'reauthenticating' ? off('A reauthentication is under way.') : on),
    'take-over': { visible: state === 'competing', enabled: state === 'competing' },
    logout: blocked ?? on,
    pause: { visible: state !== 'paused', enabled: true },
    resume: { visible: state === 'paused', enabled: true },
    'open-login-page': on,
  };
}

export type SaveResult =
  | { readonly ok: true; readonly settings: Settings }
  | { readonly ok: false; readonly errors: Partial<Record<SettingsField, string>> };

/** Renderer -> main requests (ipcRenderer.invoke / ipcMain.handle). */
export interface InvokeContract {
  'state:get': { request: null; response: DetailsState };
  'keeper:act': { request: { action: Action }; response: ActionResult };
  'settings:save': { request: Partial<Settings>; response: SaveResult };
  'trust:forget': { request: null; response: ActionResult };
  /** Trusts the certificate the gateway presents now, by the fingerprint the window showed. */
  'trust:accept': { request: { fingerprint256: string }; response: ActionResult };
  /** Gives the gateway in the settings' folder a certificate of its own (`ibkr-keeper gateway certificate`). */
  'gateway:certificate': { request: null; response: ActionResult };
  /** Asks for the gateway's folder (a folder dialog over the window) and checks it; nothing is saved. */
  'gateway:choose-folder': { request: { defaultPath: string | null }; response: FolderChoice };
  /** Opens the gateway's log (DetailsState.gatewayLog) with the system's viewer. */
  'gateway:show-log': { request: null; response: ActionResult };
}
export type InvokeChannel = keyof InvokeContract;
export const INVOKE_CHANNELS = [
  'state:get',
  'keeper:act',
  'settings:save',
  'trust:forget',
  'trust:accept',
  'gateway:certificate',
  'gateway:choose-folder',
  'gateway:show-log',
] as const satisfies readonly InvokeChannel[];

/** Main -> renderer pushes. */
export const STATE_CHANNEL = 'state:changed';

/** The one object the page sees (window.keeper), from the preload. */
export interface KeeperBridge {
  invoke<C extends InvokeChannel>(
    channel: C,
    request: InvokeContract[C]['request'],
  ): Promise<InvokeContract[C]['response']>;
  /** Calls `listener` with every new state; returns the function that stops it. */
  onState(listener: (state: DetailsState) => void): () => void;
}
