/**
 * The details window: a small popover next to the tray icon, as tray users expect (menubar,
 * gitify), hidden when it loses the focus. Sandboxed, context-isolated, no Node in the page, the
 * strict CSP of its own HTML, no navigation and no new windows. Hiding or closing it only hides or
 * closes it; the keeper goes on.
 */
import type { BrowserWindow, BrowserWindowConstructorOptions, Point, Rectangle } from 'electron';
import { pathToFileURL } from 'node:url';
import { STATE_CHANNEL, type DetailsState } from '../contract.ts';

/** The window's size: a glance, on any laptop screen. */
export const WINDOW_SIZE = { width: 380, height: 560 } as const;

/**
 * A tray click this soon after the window hid on blur is the click that blurred it; a blur this
 * soon after showing is the click that showed it (Windows may not give the new window the focus).
 */
export const BLUR_CLICK_MS = 300;

export interface WindowDeps {
  createWindow(options: BrowserWindowConstructorOptions): BrowserWindow;
  preloadPath: string;
  indexPath: string;
  icon?: string;
  /** Where the tray icon is (Tray.getBounds: macOS and Windows; empty on Linux). */
  trayBounds?: () => Rectangle | undefined;
  /** Electron's `screen`: the work area of a display, and the pointer when the tray has no bounds. */
  screen?: {
    getDisplayNearestPoint(point: Point): { workArea: Rectangle };
    getCursorScreenPoint(): Point;
  };
  /**
   * Hide when the window loses the focus (default true: a popover from the tray). Asked at each
   * blur: where the desktop shows no tray, the window is the way in and stays.
   */
  hideOnBlur?: boolean | (() => boolean);
  /** DevTools can be opened (default true; the installed app passes false). */
  devTools?: boolean;
  /** Milliseconds (Date.now): tells a tray click that closes the window from one that opens it. */
  now?: () => number;
}

/** The window's options: a small frameless popover, and every security setting the checklist asks for. */
export function windowOptions(
  deps: Pick<WindowDeps, 'preloadPath' | 'icon' | 'devTools'>,
): BrowserWindowConstructorOptions {
  return {
    ...WINDOW_SIZE,
    show: false,
    frame: false,
    resizable: false,
    movable: false,
    minimizable: false,
    maximizable: false,
    fullscreenable: false,
    skipTaskbar: true,
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
      devTools: deps.devTools ?? true,
    },
  };
}

/**
 * Where the window goes (pure): next to `anchor` (the tray icon, or the pointer), on the side of
 * the work area the icon's panel is on, centred on the icon, and always wholly inside the work
 * area. A panel at the top (macOS, GNOME) puts it below the icon, at the bottom (Windows, KDE)
 * above, at the left or right beside; an anchor inside the work area opens towards its middle.
 */
export function placeNear(
  anchor: Rectangle,
  workArea: Rectangle,
  size: { width: number; height: number } = WINDOW_SIZE,
  gap = 6,
): Rectangle {
  const width = Math.min(size.width, workArea.width);
  const height = Math.min(size.height, workArea.height);
  const [left, top] = [workArea.x, workArea.y];
  const [right, bottom] = [workArea.x + workArea.width, workArea.y + workArea.height];
  const cx = anchor.x + anchor.width / 2;
  const cy = anchor.y + anchor.height / 2;
  let x = cx - width / 2;
  let y = cy - height / 2;
  if (cy < top) y = top + gap;
  else if (cy >= bottom) y = bottom - height - gap;
  else if (cx < left) x = left + gap;
  else if (cx >= right) x = right - width - gap;
  else {
    // Inside the work area (the pointer, or a panel that reserves no space): open towards the middle.
    y = cy < top + workArea.height / 2 ? anchor.y + anchor.height + gap : anchor.y - height - gap;
    x = cx < left + workArea.width / 2 ? anchor.x : anchor.x + anchor.width - width;
  }
  const clamp = (value: number, min: number, max: number): number => Math.round(Math.max(min, Math.min(value, max)));
  return { x: clamp(x, left, right - width), y: clamp(y, top, bottom - height), width, height };
}

export interface WindowsHandle {
  /** Opens the window next to the tray icon, or brings the open one forward. */
  show(): void;
  /** A click on the tray icon: opens the window, or hides it when it is open. */
  toggle(): void;
  hide(): void;
  send(state: DetailsState): void;
  /** The window while it exists (a dialog is parented to it). */
  window(): BrowserWindow | undefined;
  ids(): number[];
  pageUrl: string;
}

export function setupWindows(deps: WindowDeps): WindowsHandle {
  const pageUrl = pathToFileURL(deps.indexPath).href;
  const now = deps.now ?? Date.now;
  let win: BrowserWindow | undefined;
  let hiddenOnBlurAt = Number.NEGATIVE_INFINITY;
  let shownAt = Number.NEGATIVE_INFINITY;
  /** The window, while it exists. */
  const current = (): BrowserWindow | undefined => (win && !win.isDestroyed() ? win : undefined);

  /** The tray icon's bounds, or the pointer where the tray gives none (Linux). */
  const anchor = (): Rectangle | undefined => {
    const bounds = deps.trayBounds?.();
    if (bounds && bounds.width > 0 && bounds.height > 0) return bounds;
    const pointer = deps.screen?.getCursorScreenPoint();
    return pointer && { ...pointer, width: 0, height: 0 };
  };
  const place = (w: BrowserWindow): void => {
    const at = anchor();
    if (at === undefined || deps.screen === undefined) return;
    const { workArea } = deps.screen.getDisplayNearestPoint({
      x: Math.round(at.x + at.width / 2),
      y: Math.round(at.y + at.height / 2),
    });
    w.setBounds(placeNear(at, workArea));
  };

  const reveal = (w: BrowserWindow): void => {
    place(w);
    shownAt = now();
    w.show();
    w.focus();
  };

  const show = (): void => {
    const existing = current();
    if (existing) return reveal(existing);
    const w = deps.createWindow(windowOptions(deps));
    win = w;
    w.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
    w.webContents.on('will-navigate', (event) => event.preventDefault());
    w.webContents.on('will-redirect', (event) => event.preventDefault());
    w.once('ready-to-show', () => reveal(w));
    const hideOnBlur = deps.hideOnBlur ?? true;
    if (hideOnBlur !== false) {
      w.on('blur', () => {
        if (typeof hideOnBlur === 'function' && !hideOnBlur()) return;
        // Not while DevTools has the focus, nor for the blur of the click that just showed it
        // (https://github.com/gitify-app/gitify/pull/3082).
        if (w.isDestroyed() || w.webContents.isDevToolsOpened() || now() - shownAt < BLUR_CLICK_MS) return;
        w.hide();
        hiddenOnBlurAt = now();
      });
    }
    w.on('closed', () => {
      if (win === w) win = undefined;
    });
    void w.loadURL(pageUrl);
  };

  return {
    pageUrl,
    ids: () => {
      const w = current();
      return w ? [w.webContents.id] : [];
    },
    show,
    window: current,
    hide: () => current()?.hide(),
    toggle: () => {
      const w = current();
      if (w?.isVisible()) w.hide();
      // On Windows and macOS the click on the icon blurs the window first, which hides it; that
      // click meant "close", so it does not open it again (https://github.com/max-mapper/menubar/issues/274).
      else if (now() - hiddenOnBlurAt >= BLUR_CLICK_MS) show();
    },
    send: (state) => current()?.webContents.send(STATE_CHANNEL, state),
  };
}
