/**
 * Launch at login: login items on macOS and Windows; on Linux an autostart `.desktop` file in
 * `$XDG_CONFIG_HOME/autostart` (default `~/.config/autostart`), whose Exec is the AppImage when
 * the app runs as one (`$APPIMAGE`), since the executable inside it moves at every start.
 */
import type { App } from 'electron';
import type { LaunchAtLoginStatus } from '../contract.ts';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface LoginItemDeps {
  platform: NodeJS.Platform;
  app: Pick<App, 'setLoginItemSettings' | 'getLoginItemSettings'>;
  env: NodeJS.ProcessEnv;
  home: string;
  execPath: string;
}

export const AUTOSTART_FILE = 'ibkr-session-keeper.desktop';

/** Where the Linux autostart file lives. */
export function autostartPath(deps: Pick<LoginItemDeps, 'env' | 'home'>): string {
  const config = deps.env['XDG_CONFIG_HOME'] || path.join(deps.home, '.config');
  return path.join(config, 'autostart', AUTOSTART_FILE);
}

/**
 * The autostart entry's text. Exec quotes the path and escapes `"`, `` ` ``, `$` and `\` inside
 * the quotes, and `%` (a field code) as `%%`, as the Desktop Entry spec asks.
 */
export function autostartEntry(exec: string): string {
  const quoted = `"${exec.replace(/(["`$\\])/g, '\\$1').replaceAll('%', '%%')}"`;
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=IBKR Session Keeper',
    'Comment=Keeps your IBKR gateway session alive',
    `Exec=${quoted}`,
    'X-GNOME-Autostart-enabled=true',
    'Terminal=false',
    '',
  ].join('\n');
}

/**
 * Launch at login is only for the installed app: a development run (`npm start`, tests) would
 * register `node` or a bare Electron to start at every login. Nothing is written then.
 */
export const NOT_PACKAGED: LaunchAtLogin = {
  set: () => undefined,
  enabled: () => false,
  status: () => ({ state: 'not-packaged', text: 'Launch at login works only in the installed app.' }),
};

/** Launch at login as the system has it: `set` changes it, `status` reads it back. */
export interface LaunchAtLogin {
  set(enabled: boolean): void;
  enabled(): boolean;
  status(): LaunchAtLoginStatus;
}

const ON: LaunchAtLoginStatus = { state: 'on', text: 'On: the app starts when you log in.' };
const OFF: LaunchAtLoginStatus = { state: 'off', text: 'Off: start the app yourself after logging in.' };
const APPROVAL: LaunchAtLoginStatus = {
  state: 'requires-approval',
  text: 'Waiting for your approval: allow IBKR Session Keeper in System Settings, General, Login Items.',
};

export function setupLaunchAtLogin(deps: LoginItemDeps): LaunchAtLogin {
  if (deps.platform === 'linux') {
    const file = autostartPath(deps);
    return {
      set: (enabled) => {
        if (!enabled) return rmSync(file, { force: true });
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, autostartEntry(deps.env['APPIMAGE'] || deps.execPath));
      },
      enabled: () => existsSync(file),
      status: () => (existsSync(file) ? ON : OFF),
    };
  }
  const enabled = (): boolean => deps.app.getLoginItemSettings().openAtLogin;
  return {
    set: (on) =>
      deps.app.setLoginItemSettings({ openAtLogin: on, path: deps.platform === 'win32' ? deps.execPath : undefined }),
    enabled,
    status: () => {
      // macOS 13 and later report the login item's status; `requires-approval` until the user
      // allows it in System Settings (openAtLogin is false meanwhile).
      const settings = deps.app.getLoginItemSettings() as { openAtLogin: boolean; status?: string };
      if (settings.status === 'requires-approval') return APPROVAL;
      return settings.openAtLogin || settings.status === 'enabled' ? ON : OFF;
    },
  };
}
