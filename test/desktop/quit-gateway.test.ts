/**
 * Quitting the app stops the gateway it runs, even while a request hangs: a child process does what
 * main.ts's before-quit does (stopWithin(() => core.stop()), then exits) with a check under way
 * against IBKR's real gateway, which accepts API requests here and never answers them (it cannot
 * reach IBKR: docs/gateway.md, "Routing"). The gateway must not outlive the app.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import { groupAlive } from '../../main/gateway/process.ts';
import { ROOT, tempDir } from '../helpers.ts';
import { copyGateway, freePort, reaper } from '../real-gateway.ts';

const dist = (file: string): string => pathToFileURL(path.join(ROOT, 'dist/main', file)).href;

/** The app's quit, in a process of its own: prints the gateway's pid, then how the quit went; then exits. */
const QUIT = `
import { DesktopCore } from ${JSON.stringify(dist('desktop/core.js'))};
import { stopWithin } from ${JSON.stringify(dist('desktop/startup.js'))};
import { DEFAULT_SETTINGS, SettingsFile } from ${JSON.stringify(dist('session/settings.js'))};
import { realClock, realScheduler } from ${JSON.stringify(dist('session/time.js'))};
const [configDir, gateway, gatewayDir] = process.argv.slice(-3);
const settings = SettingsFile.open(configDir);
settings.write({ ...DEFAULT_SETTINGS, launchAtLogin: false, gateway, gatewayDir, runGateway: true });
const core = new DesktopCore({ configDir, settings, clock: realClock,
  scheduler: realScheduler, notifier: { show: async () => undefined }, openExternal: async () => undefined,
  applyLaunchAtLogin: () => undefined });
core.start();
while (core.state().gateway?.state !== 'running') await new Promise((r) => setTimeout(r, 100));
console.log('pid', core.state().gateway.pid);
void core.act('check'); // hangs: the gateway never answers (the keeper's timeout is 10 s)
await new Promise((r) => setTimeout(r, 300));
console.log('quit', await stopWithin(() => core.stop()));
process.exit(0);
`;

describe('quitting the app', { timeout: 120_000 }, () => {
  test('stops the gateway it runs at once, though a check of the session hangs', async (t) => {
    const note = reaper(t);
    const port = await freePort();
    const dir = copyGateway(t, port);
    const configDir = tempDir(t);
    note.pidFileIn(configDir);
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', QUIT, configDir, `https://localhost:${port}`, dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const pid = /^pid (\d+)$/m.exec(out)?.[1];
      if (pid !== undefined) note(Number(pid));
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    await once(child, 'exit');
    const pid = Number(/^pid (\d+)$/m.exec(out)?.[1]);
    assert.ok(pid > 0, out);
    assert.match(out, /^quit (stopped|gave-up)$/m, out);
    // The app is gone; its gateway must end by the SIGTERM sent on quit (it ends within a second of one).
    for (let i = 0; i < 100 && groupAlive(pid); i += 1) await new Promise((r) => setTimeout(r, 100));
    assert.ok(!groupAlive(pid), `the gateway (pid ${pid}) outlived the app:\n${out}`);
  });
});
