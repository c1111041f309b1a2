/**
 * What the app decides as it starts and quits, in plain Node: damaged files named (and their
 * folder offered), the first run, a desktop without a tray, the Log out question that never
 * blocks, and a quit bounded whatever is in flight.
 */
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { DEFAULT_SETTINGS, SettingsFile } from '../../main/session/settings.ts';
import {
  askSessionBus,
  confirmLogout,
  damagedFiles,
  isFirstRun,
  noTrayHint,
  reportDamagedFiles,
  stopWithin,
  trayAvailability,
  type MessageBox,
} from '../../main/desktop/startup.ts';
import { tempDir } from '../helpers.ts';

function box(answer: number | ((options: Parameters<MessageBox>[0]) => number)) {
  const asked: Array<Parameters<MessageBox>[0]> = [];
  const show: MessageBox = async (options) => {
    asked.push(options);
    return { response: typeof answer === 'number' ? answer : answer(options) };
  };
  return { show, asked };
}

test('a first run has no settings.json; a saved one is not a first run', (t) => {
  const dir = tempDir(t);
  assert.equal(isFirstRun(dir), true);
  SettingsFile.open(dir).write(DEFAULT_SETTINGS);
  assert.equal(isFirstRun(dir), false);
});

test('damaged settings, trust, pacing and recovery files are each named; sound ones and missing ones are not', (t) => {
  const dir = tempDir(t);
  assert.deepEqual(damagedFiles(dir), [], 'no files yet: nothing damaged');
  writeFileSync(path.join(dir, 'settings.json'), '{"gateway": ');
  writeFileSync(path.join(dir, 'trust.json'), '[]');
  writeFileSync(path.join(dir, 'pacing.json'), 'null');
  writeFileSync(path.join(dir, 'recovery.json'), JSON.stringify({ version: 1, attempts: [], drop: null }));
  const problems = damagedFiles(dir);
  assert.deepEqual(
    problems.map((p) => path.basename(p.file)),
    ['settings.json', 'trust.json', 'pacing.json'],
  );
  for (const p of problems) assert.ok(p.message.includes(p.file), `the message names ${p.file}: ${p.message}`);
});

test('the dialog names the damaged file and opens its folder when asked; Continue opens nothing', async (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'trust.json'), '{not json');
  const problems = damagedFiles(dir);
  const opened: string[] = [];
  const yes = box((options) => options.buttons.indexOf('Open folder'));
  await reportDamagedFiles(problems, {
    showMessageBox: yes.show,
    openFolder: async (folder) => void opened.push(folder),
  });
  assert.equal(yes.asked[0]!.message, 'IBKR Session Keeper cannot read trust.json');
  assert.ok(yes.asked[0]!.detail.includes(path.join(dir, 'trust.json')));
  assert.deepEqual(opened, [dir]);
  const no = box((options) => options.cancelId);
  await reportDamagedFiles(problems, {
    showMessageBox: no.show,
    openFolder: async (folder) => void opened.push(folder),
  });
  assert.deepEqual(opened, [dir]);
  const none = box(0);
  await reportDamagedFiles([], { showMessageBox: none.show, openFolder: async () => undefined });
  assert.equal(none.asked.length, 0, 'no dialog when every file is sound');
});

test('Log out asks in an asynchronous box, Cancel by default', async () => {
  const cancel = box((options) => options.cancelId);
  assert.equal(await confirmLogout(cancel.show, 'Log out?', 'Really.'), false);
  assert.deepEqual([cancel.asked[0]!.buttons, cancel.asked[0]!.defaultId], [['Log out', 'Cancel'], 1]);
  assert.equal(await confirmLogout(box(0).show, 'Log out?', 'Really.'), true);
});

test(
  'a tray where the session bus has a StatusNotifierWatcher; ' + 'none on stock GNOME; unknown without gdbus',
  async (t) => {
    const dir = tempDir(t);
    const fakeGdbus = (answer: string): string => {
      const file = path.join(dir, `gdbus-${answer.replace(/\W/g, '')}`);
      writeFileSync(file, `#!/bin/sh\necho '${answer}'\n`);
      chmodSync(file, 0o755);
      return file;
    };
    assert.equal(await askSessionBus(undefined, fakeGdbus('(true,)')), 'present');
    assert.equal(await askSessionBus(undefined, fakeGdbus('(false,)')), 'absent');
    assert.equal(await askSessionBus(undefined, path.join(dir, 'no-such-gdbus')), 'unknown');
    assert.equal(await trayAvailability('darwin', async () => 'absent'), 'present', 'macOS always has a menu bar');
    assert.equal(await trayAvailability('linux', async () => 'absent'), 'absent');
    assert.match(
      noTrayHint({ XDG_CURRENT_DESKTOP: 'ubuntu:GNOME' }),
      /this window is how you reach the app.*AppIndicator and KStatusNotifierItem Support/,
    );
    assert.match(noTrayHint({ XDG_CURRENT_DESKTOP: 'sway' }), /Add a system tray/);
  },
);

test('a stop that hangs is given up on; one that ends, or fails, is waited for', async () => {
  assert.equal(await stopWithin(() => new Promise(() => undefined), 50), 'gave-up');
  assert.equal(await stopWithin(async () => undefined, 50), 'stopped');
  assert.equal(await stopWithin(async () => Promise.reject(new Error('x')), 50), 'stopped');
});
