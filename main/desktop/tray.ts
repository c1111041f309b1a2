/**
 * The tray icon: its colour is the state, its tooltip the reason, and its context menu carries
 * every action, since on Linux some panels never deliver clicks. Built once; the image is set only
 * when the state changes and the menu only when what it shows changes (each set can flicker).
 */
import type { Menu, MenuItemConstructorOptions, NativeImage, Tray } from 'electron';
import { controlsFor, type Action, type GatewayLog, type LaunchAtLoginStatus } from '../contract.ts';
import type { GatewayAction } from './gateway.ts';
import type { KeeperStatus } from '../session/keeper.ts';
import type { Settings } from '../session/settings.ts';
import { STATE_INFO, type SessionState } from '../session/states.ts';

/** The Electron parts the tray uses, so a test can pass small fakes. */
export interface TrayDeps {
  createTray(image: NativeImage): Pick<Tray, 'setImage' | 'setToolTip' | 'setContextMenu' | 'destroy' | 'on'>;
  buildMenu(template: MenuItemConstructorOptions[]): Menu;
  /** The icon of a state (assets/tray/<state>.png). */
  image(state: SessionState): NativeImage;
  /** Asks before something that cannot be undone; resolves true to go ahead (never blocks the main process). */
  confirm(message: string, detail: string): boolean | Promise<boolean>;
  act(action: Action): void;
  /** Opens the gateway's login page in the system browser, for those who prefer it to the login window. */
  openLoginInBrowser?(): void;
  showDetails(): void;
  /** A click on the icon: shows the window, or hides it when it is open (showDetails without it). */
  toggleDetails?(): void;
  setLaunchAtLogin(enabled: boolean): void;
  /** Opens the log file (where the app has one). */
  openLogs?(): void;
  quit(): void;
  /** Start, Stop or Restart the gateway the app runs (items shown with the setting runGateway). */
  gatewayAction?(action: GatewayAction): void;
  /** Opens the gateway's log (shown where the app knows the gateway's folder). */
  showGatewayLog?(): void;
}

/** The tooltip: product, state and reason (some platforms cut it at 127 characters). */
export function tooltipFor(status: KeeperStatus): string {
  const text = `IBKR Session Keeper: ${STATE_INFO[status.state].title}. ${status.reason}`;
  return text.length > 127 ? `${text.slice(0, 126)}…` : text;
}

/** The menu for a state, as a template (pure, so it is tested as it is). */
export function menuTemplate(
  status: KeeperStatus,
  settings: Settings,
  deps: Pick<
    TrayDeps,
    | 'confirm'
    | 'act'
    | 'showDetails'
    | 'setLaunchAtLogin'
    | 'openLogs'
    | 'quit'
    | 'gatewayAction'
    | 'showGatewayLog'
    | 'openLoginInBrowser'
  >,
  launch?: LaunchAtLoginStatus,
  gatewayLog?: GatewayLog,
): MenuItemConstructorOptions[] {
  const { state } = status;
  const paused = state === 'paused';
  // The window offers the same actions under the same rule (main/contract.ts).
  const can = controlsFor(state);
  return [
    {
      id: 'state',
      label: `${STATE_INFO[state].title}${status.facts.userName ? ` (${status.facts.userName})` : ''}`,
      enabled: false,
    },
    { type: 'separator' },
    { id: 'details', label: 'Show details', click: () => deps.showDetails() },
    { id: 'login', label: 'Log in', click: () => deps.act('open-login-page') },
    {
      id: 'login-browser',
      label: 'Open login page in browser',
      visible: deps.openLoginInBrowser !== undefined,
      click: () => deps.openLoginInBrowser?.(),
    },
    {
      id: 'reauthenticate',
      label: 'Reauthenticate',
      enabled: can.reauthenticate.enabled,
      click: () => deps.act('reauthenticate'),
    },
    {
      id: 'take-over',
      label: 'Take over from the other login',
      visible: can['take-over'].visible,
      click: () => deps.act('take-over'),
    },
    {
      id: 'logout',
      label: 'Log out…',
      enabled: can.logout.enabled,
      click: async () => {
        if (
          await deps.confirm(
            'Log out of the IBKR gateway?',
            'The session ends; you will log in again in a browser, with two-factor authentication.',
          )
        )
          deps.act('logout');
      },
    },
    { type: 'separator' },
    {
      id: 'pause',
      label: paused ? 'Resume keeping alive' : 'Pause keeping alive',
      click: () => deps.act(paused ? 'resume' : 'pause'),
    },
    // The gateway the app runs (main/desktop/gateway.ts): each action is safe in any of its states.
    ...(['start', 'stop', 'restart'] as const).map(
      (a): MenuItemConstructorOptions => ({
        id: `gateway-${a}`,
        label: `${a[0]!.toUpperCase()}${a.slice(1)} gateway`,
        visible: settings.runGateway && deps.gatewayAction !== undefined,
        click: () => deps.gatewayAction?.(a),
      }),
    ),
    {
      id: 'gateway-log',
      label: 'Show gateway log',
      visible: gatewayLog?.shown === true && deps.showGatewayLog !== undefined,
      // Greyed out until the gateway has written one (the window says why).
      enabled: gatewayLog?.file != null,
      toolTip: gatewayLog?.why ?? undefined,
      click: () => deps.showGatewayLog?.(),
    },
    launchItem(settings, deps, launch),
    { id: 'logs', label: 'Open logs', visible: deps.openLogs !== undefined, click: () => deps.openLogs?.() },
    { type: 'separator' },
    { id: 'quit', label: 'Quit IBKR Session Keeper', click: () => deps.quit() },
  ];
}

/**
 * Launch at login as the system has it (read back), where the desktop gives it; the setting
 * otherwise. Unpackaged it cannot be changed; on macOS a login item may wait for approval.
 */
function launchItem(
  settings: Settings,
  deps: Pick<TrayDeps, 'setLaunchAtLogin'>,
  launch?: LaunchAtLoginStatus,
): MenuItemConstructorOptions {
  const suffix = {
    on: '',
    off: '',
    'requires-approval': ' (approve in System Settings)',
    'not-packaged': ' (only in the installed app)',
  };
  return {
    id: 'launch',
    label: `Launch at login${launch ? suffix[launch.state] : ''}`,
    type: 'checkbox',
    checked: launch ? launch.state === 'on' || launch.state === 'requires-approval' : settings.launchAtLogin === true,
    enabled: launch?.state !== 'not-packaged',
    toolTip: launch?.text,
    click: (item) => deps.setLaunchAtLogin(item.checked),
  };
}

/** Creates the tray; `update` follows the keeper. */
export interface TrayHandle {
  update(status: KeeperStatus, settings: Settings, launch?: LaunchAtLoginStatus, gatewayLog?: GatewayLog): void;
  destroy(): void;
}

export function setupTray(
  deps: TrayDeps,
  status: KeeperStatus,
  settings: Settings,
  launch?: LaunchAtLoginStatus,
  gatewayLog?: GatewayLog,
): TrayHandle {
  const tray = deps.createTray(deps.image(status.state));
  let shownState = status.state;
  let shownTip = '';
  let shownMenu = '';
  tray.on('click', () => (deps.toggleDetails ?? deps.showDetails)());
  const update = (
    next: KeeperStatus,
    nextSettings: Settings,
    nextLaunch?: LaunchAtLoginStatus,
    nextLog?: GatewayLog,
  ): void => {
    if (next.state !== shownState) {
      tray.setImage(deps.image(next.state));
      shownState = next.state;
    }
    const tip = tooltipFor(next);
    if (tip !== shownTip) {
      tray.setToolTip(tip);
      shownTip = tip;
    }
    // Linux needs setContextMenu again after a change; elsewhere it is harmless.
    const key = JSON.stringify([
      next.state,
      next.facts.userName,
      nextSettings.launchAtLogin,
      nextLaunch?.state,
      nextSettings.runGateway,
      nextLog?.shown,
      nextLog?.file,
    ]);
    if (key !== shownMenu) {
      tray.setContextMenu(deps.buildMenu(menuTemplate(next, nextSettings, deps, nextLaunch, nextLog)));
      shownMenu = key;
    }
  };
  update(status, settings, launch, gatewayLog);
  return { update, destroy: () => tray.destroy() };
}
