/**
 * What the app checks and decides as it starts and quits, without Electron: a damaged file in the
 * config folder (named in a dialog, with its folder a click away), the first run (no settings
 * yet: the window opens), a desktop that likely shows no tray icon (the window is how the app is
 * reached, and it says how to get a tray), and a quit that never waits on a hanging request.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileLedger } from '../session/pacing.ts';
import { fileBudget } from '../session/policy.ts';
import { SettingsFile } from '../session/settings.ts';
import { TrustStore } from '../session/trust-store.ts';

/** A file of the config folder that cannot be read, and why (one line that names it). */
export interface FileProblem {
  readonly file: string;
  readonly message: string;
}

/** The state files the app reads at start: settings, trust, pacing, recovery. */
export function damagedFiles(configDir: string): FileProblem[] {
  const settings = SettingsFile.open(configDir);
  const trust = new TrustStore(configDir);
  const checks: Array<[string, () => unknown]> = [
    [settings.path, () => settings.read()],
    [trust.path, () => trust.list()],
    [path.join(configDir, 'pacing.json'), () => fileLedger(configDir).read()],
    [path.join(configDir, 'recovery.json'), () => fileBudget(configDir).read()],
  ];
  const problems: FileProblem[] = [];
  for (const [file, read] of checks) {
    try {
      read();
    } catch (error) {
      problems.push({ file, message: (error as Error).message });
    }
  }
  return problems;
}

/** The first run: no settings.json yet. The window opens so the user sees the app at all. */
export function isFirstRun(configDir: string): boolean {
  return !existsSync(SettingsFile.open(configDir).path);
}

/** The dialog Electron shows (dialog.showMessageBox's options and answer, as far as used here). */
export type MessageBox = (options: {
  type: 'warning' | 'question';
  title?: string;
  message: string;
  detail: string;
  buttons: string[];
  defaultId: number;
  cancelId: number;
}) => Promise<{ response: number }>;

/**
 * Names the damaged files in a dialog that offers to open their folder. Asynchronous: the keeper
 * goes on meanwhile (the core reports the same problems in its state and the window).
 */
export async function reportDamagedFiles(
  problems: readonly FileProblem[],
  deps: { showMessageBox: MessageBox; openFolder(dir: string): Promise<unknown> },
): Promise<void> {
  if (problems.length === 0) return;
  const { response } = await deps.showMessageBox({
    type: 'warning',
    title: 'IBKR Session Keeper',
    message:
      problems.length === 1
        ? `IBKR Session Keeper cannot read ${path.basename(problems[0]!.file)}`
        : `IBKR Session Keeper cannot read ${problems.length} of its files`,
    detail:
      `${problems.map((p) => p.message).join('\n\n')}\n\nNothing was changed ` +
      `in ${problems.length === 1 ? 'it' : 'them'}. Fix or ` +
      `move ${problems.length === 1 ? 'it' : 'them'} away, then restart the app; meanwhile the window says what ` +
      `the keeper can still do.`,
    buttons: ['Open folder', 'Continue'],
    defaultId: 0,
    cancelId: 1,
  });
  if (response === 0) await deps.openFolder(path.dirname(problems[0]!.file));
}

/** Asks before logging out, without blocking the main process (and with it the keep-alive loop). */
export async function confirmLogout(showMessageBox: MessageBox, message: string, detail: string): Promise<boolean> {
  const { response } = await showMessageBox({
    type: 'question',
    message,
    detail,
    buttons: ['Log out', 'Cancel'],
    defaultId: 1,
    cancelId: 1,
  });
  return response === 0;
}

/**
 * Whether the desktop shows tray icons. Electron cannot tell: on Linux its tray is a
 * StatusNotifierItem, shown only where something owns `org.kde.StatusNotifierWatcher` on the
 * session bus (KDE, Xfce, Cinnamon, MATE, Ubuntu's GNOME with its AppIndicator extension; not
 * stock GNOME). So on Linux the bus is asked (gdbus, from GLib, on every GTK desktop); where it
 * cannot be asked the answer is 'unknown' and the tray is assumed. macOS and Windows always
 * have one.
 */
export type TrayAvailability = 'present' | 'absent' | 'unknown';

export const STATUS_NOTIFIER_WATCHER = 'org.kde.StatusNotifierWatcher';

/** Asks the session bus whether a StatusNotifierWatcher runs; 'unknown' without gdbus or a bus. */
export function askSessionBus(name = STATUS_NOTIFIER_WATCHER, gdbus = 'gdbus'): Promise<TrayAvailability> {
  const args = [
    'call',
    '--session',
    '--dest',
    'org.freedesktop.DBus',
    '--object-path',
    '/org/freedesktop/DBus',
    '--method',
    'org.freedesktop.DBus.NameHasOwner',
    name,
  ];
  return new Promise((resolve) => {
    execFile(gdbus, args, { timeout: 2_000 }, (error, stdout) => {
      if (error) return resolve('unknown');
      resolve(/\(true,?\)/.test(stdout) ? 'present' : /\(false,?\)/.test(stdout) ? 'absent' : 'unknown');
    });
  });
}

export async function trayAvailability(
  platform: NodeJS.Platform,
  askBus: () => Promise<TrayAvailability> = askSessionBus,
): Promise<TrayAvailability> {
  return platform === 'linux' ? askBus() : 'present';
}

/** What the window says where the desktop shows no tray icon. */
export function noTrayHint(env: NodeJS.ProcessEnv): string {
  const desktop = env['XDG_CURRENT_DESKTOP'] ?? '';
  const how = /GNOME/i.test(desktop)
    ? 'On GNOME, install the "AppIndicator and KStatusNotifierItem Support" extension (Ubuntu ships it as ' +
      '"Ubuntu AppIndicators"), then restart the app.'
    : 'Add a system tray or status notifier area to your panel, then restart the app.';
  return `Your desktop shows no tray icons, so this window is how you reach the app: start it again to open it. ${how}`;
}

/** How long a quit may wait for the keeper to stop (a request under way is given up after this). */
export const QUIT_WITHIN_MS = 1_500;

/**
 * Stops with a bound: resolves 'stopped' when `stop` ends in time, else 'gave-up' after `ms` (a
 * request that hangs on an unreachable gateway is abandoned; the process exits, and the
 * operating system frees its lease's file lock).
 */
export async function stopWithin(stop: () => Promise<void>, ms = QUIT_WITHIN_MS): Promise<'stopped' | 'gave-up'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'gave-up'>((resolve) => {
    timer = setTimeout(() => resolve('gave-up'), ms);
  });
  try {
    return await Promise.race([
      stop().then(
        () => 'stopped' as const,
        () => 'stopped' as const,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
