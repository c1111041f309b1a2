/**
 * The details window as a popover by the tray icon, with a small fake of BrowserWindow: where it
 * opens on each kind of panel, that it hides on blur, and that a click on the icon toggles it.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import type { BrowserWindow, Rectangle } from 'electron';
import { BLUR_CLICK_MS, placeNear, setupWindows, windowOptions, WINDOW_SIZE } from '../../main/desktop/windows.ts';

const SIZE = WINDOW_SIZE;
const inside = (r: Rectangle, area: Rectangle): boolean =>
  r.x >= area.x && r.y >= area.y && r.x + r.width <= area.x + area.width && r.y + r.height <= area.y + area.height;

describe('where the window opens', () => {
  // A 1440x900 display; the work area is what panels leave free.
  test('macOS: below the menu bar, centred on the icon', () => {
    const workArea = { x: 0, y: 25, width: 1440, height: 875 };
    const icon = { x: 1000, y: 0, width: 24, height: 24 };
    const r = placeNear(icon, workArea);
    assert.deepEqual(r, { x: 1012 - SIZE.width / 2, y: 25 + 6, width: SIZE.width, height: SIZE.height });
  });

  test('an icon at the right end of a top panel: flush with the right edge, never off screen', () => {
    const workArea = { x: 0, y: 32, width: 1440, height: 868 };
    const r = placeNear({ x: 1416, y: 4, width: 24, height: 24 }, workArea);
    assert.deepEqual([r.x, r.y], [1440 - SIZE.width, 38]);
    assert.ok(inside(r, workArea));
  });

  test('Windows: above a taskbar at the bottom', () => {
    const workArea = { x: 0, y: 0, width: 1920, height: 1040 };
    const r = placeNear({ x: 1700, y: 1048, width: 24, height: 24 }, workArea);
    assert.deepEqual(r, {
      x: 1712 - SIZE.width / 2,
      y: 1040 - SIZE.height - 6,
      width: SIZE.width,
      height: SIZE.height,
    });
  });

  test('a taskbar on the left or the right: beside it, at the height of the icon, inside the screen', () => {
    const left = { x: 62, y: 0, width: 1858, height: 1080 };
    const r1 = placeNear({ x: 19, y: 1000, width: 24, height: 24 }, left);
    assert.equal(r1.x, 62 + 6);
    assert.equal(r1.y, 1080 - SIZE.height, 'as low as the icon, but inside');
    const right = { x: 0, y: 0, width: 1858, height: 1080 };
    const r2 = placeNear({ x: 1877, y: 300, width: 24, height: 24 }, right);
    assert.deepEqual([r2.x, r2.y], [1858 - SIZE.width - 6, 312 - SIZE.height / 2]);
  });

  test('the pointer inside the work area (Linux gives no icon bounds): opens towards the middle', () => {
    const workArea = { x: 0, y: 0, width: 1920, height: 1080 };
    const nearBottomRight = placeNear({ x: 1900, y: 1070, width: 0, height: 0 }, workArea);
    assert.deepEqual([nearBottomRight.x, nearBottomRight.y], [1900 - SIZE.width, 1070 - SIZE.height - 6]);
    const nearTopLeft = placeNear({ x: 10, y: 10, width: 0, height: 0 }, workArea);
    assert.deepEqual([nearTopLeft.x, nearTopLeft.y], [10, 16]);
  });

  test('a second display to the left, and a screen smaller than the window: inside its work area', () => {
    const second = { x: -1280, y: 0, width: 1280, height: 1024 };
    const r = placeNear({ x: -30, y: 1030, width: 24, height: 24 }, second);
    assert.ok(inside(r, second), JSON.stringify(r));
    const tiny = { x: 0, y: 24, width: 800, height: 476 };
    const small = placeNear({ x: 700, y: 0, width: 24, height: 24 }, tiny);
    assert.deepEqual(small, { x: 800 - SIZE.width, y: 24, width: SIZE.width, height: 476 });
  });
});

class FakeWindow extends EventEmitter {
  readonly webContents = Object.assign(new EventEmitter(), {
    id: 5,
    setWindowOpenHandler: () => undefined,
    send: () => undefined,
    isDevToolsOpened: () => false,
  });
  visible = false;
  bounds: Rectangle | undefined;
  isDestroyed = (): boolean => false;
  isVisible = (): boolean => this.visible;
  show = (): void => void (this.visible = true);
  hide = (): void => void (this.visible = false);
  focus = (): void => undefined;
  setBounds = (bounds: Rectangle): void => void (this.bounds = bounds);
  loadURL = async (): Promise<void> => void this.emit('ready-to-show');
}

function rig(options: { hideOnBlur?: boolean; trayBounds?: Rectangle } = {}) {
  let clock = 10_000;
  const created: FakeWindow[] = [];
  const windows = setupWindows({
    createWindow: () => {
      const w = new FakeWindow();
      created.push(w);
      return w as unknown as BrowserWindow;
    },
    preloadPath: '/p.cjs',
    indexPath: '/app/index.html',
    trayBounds: () => options.trayBounds,
    screen: {
      getCursorScreenPoint: () => ({ x: 1200, y: 10 }),
      getDisplayNearestPoint: () => ({ workArea: { x: 0, y: 25, width: 1440, height: 875 } }),
    },
    hideOnBlur: options.hideOnBlur,
    now: () => clock,
  });
  return { windows, created, win: () => created[0]!, advance: (ms: number) => void (clock += ms) };
}

describe('the popover', () => {
  test('small, frameless, out of the taskbar, and still sandboxed', () => {
    const o = windowOptions({ preloadPath: '/p.cjs' });
    assert.deepEqual([o.width, o.height, o.frame, o.skipTaskbar, o.resizable], [380, 560, false, true, false]);
    assert.deepEqual(
      [o.webPreferences!.sandbox, o.webPreferences!.contextIsolation, o.webPreferences!.nodeIntegration],
      [true, true, false],
    );
  });

  test('opens next to the tray icon, or under the pointer where the tray has no bounds', async () => {
    const withBounds = rig({ trayBounds: { x: 1000, y: 0, width: 24, height: 24 } });
    withBounds.windows.show();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(withBounds.win().bounds, { x: 1012 - 190, y: 31, width: 380, height: 560 });
    assert.equal(withBounds.win().visible, true);
    const linux = rig({ trayBounds: { x: 0, y: 0, width: 0, height: 0 } });
    linux.windows.show();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(linux.win().bounds, { x: 1200 - 190, y: 31, width: 380, height: 560 });
  });

  test('hides when it loses the focus, but not for the blur of the click that opened it', async () => {
    const r = rig();
    r.windows.show();
    await new Promise((resolve) => setImmediate(resolve));
    r.win().emit('blur');
    assert.equal(r.win().visible, true, 'a blur right after showing is the opening click');
    r.advance(2_000);
    r.win().emit('blur');
    assert.equal(r.win().visible, false);
    assert.equal(r.created.length, 1, 'hidden, not closed: it opens again as it was');
  });

  test('a click on the icon toggles it; the click that blurred it does not reopen it', async () => {
    const r = rig();
    r.windows.toggle();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(r.win().visible, true);
    r.advance(2_000);
    r.windows.toggle();
    assert.equal(r.win().visible, false, 'a second click closes it');
    r.advance(2_000);
    r.windows.toggle();
    assert.equal(r.win().visible, true);
    r.advance(2_000);
    // Windows and macOS: the click on the icon blurs the window before the click arrives.
    r.win().emit('blur');
    r.advance(BLUR_CLICK_MS - 100);
    r.windows.toggle();
    assert.equal(r.win().visible, false, 'stays closed');
    r.advance(BLUR_CLICK_MS);
    r.windows.toggle();
    assert.equal(r.win().visible, true, 'a later click opens it');
  });

  test('a window of its own (hideOnBlur false) stays open when it loses the focus', async () => {
    const r = rig({ hideOnBlur: false });
    r.windows.show();
    await new Promise((resolve) => setImmediate(resolve));
    r.advance(2_000);
    r.win().emit('blur');
    assert.equal(r.win().visible, true);
  });
});
