/**
 * The details window: sandboxed, context-isolated, no Node in the page, the strict CSP of its own
 * HTML, no navigation and no new windows. Closing it only closes it; the keeper goes on.
 */
import type { BrowserWindow, BrowserWindowConstructorOptions } from 'electron';
import { pathToFileURL } from 'node:url';
import { STATE_CHANNEL, type DetailsState } from '../contract.ts';

export interface WindowDeps {
  createWindow(options: BrowserWindowConstructorOptions): BrowserWindow;
  preloadPath: string;
  indexPath: string;
  icon?: string;
}

/** The window's options: every security setting the checklist asks for. */
export function windowOptions(deps: Pick<WindowDeps, 'preloadPath' | 'icon'>): BrowserWindowConstructorOptions {
  return {
    width: 900,
    height: 900,
    show: false,
    title: 'IBKR Session Keeper',
    icon: deps.icon,
    autoHideMenuBar: true,
    webPreferences: {
      preload: deps.preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      spellcheck: false,
    },
  };
}

/** Opens the details window, or brings the open one forward. */
export function setupWindows(deps: WindowDeps): { show(): void; send(state: DetailsState): void; ids(): number[]; pageUrl: string } {
  const pageUrl = pathToFileURL(deps.indexPath).href;
  let win: BrowserWindow | undefined;
  return {
    pageUrl,
    ids: () => (win && !win.isDestroyed() ? [win.webContents.id] : []),
    show: () => {
      if (win && !win.isDestroyed()) {
        win.show();
        win.focus();
        return;
      }
      win = deps.createWindow(windowOptions(deps));
      win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
      win.webContents.on('will-navigate', (event) => event.preventDefault());
      win.webContents.on('will-redirect', (event) => event.preventDefault());
      win.once('ready-to-show', () => win?.show());
      win.on('closed', () => (win = undefined));
      void win.loadURL(pageUrl);
    },
    send: (state) => {
      if (win && !win.isDestroyed()) win.webContents.send(STATE_CHANNEL, state);
    },
  };
}
