/** The desktop core holds the gateway's WebSocket: a drop reaches the tray's state before the next tickle. */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import type { DetailsState } from '../../main/contract.ts';
import { DesktopCore } from '../../main/desktop/core.ts';
import type { Notification } from '../../main/session/notifications.ts';
import { DEFAULT_SETTINGS, SettingsFile } from '../../main/session/settings.ts';
import { VirtualTime } from '../../main/simulator/virtual-time.ts';
import { startSim, tempDir } from '../helpers.ts';

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i += 1) {
    if (condition()) return;
    await sleep(10);
  }
  assert.fail(`never: ${what}`);
}

describe('desktop core with push', () => {
  test(
    'a drop pushed by the gateway changes the state ' + 'the tray shows, and notifies, before the next tickle',
    async (t) => {
      const sim = await startSim(t, { settings: { reauthLatencyMs: 3_000 } });
      const dir = tempDir(t);
      const file = SettingsFile.open(dir);
      file.write({ ...DEFAULT_SETTINGS, gateway: sim.url });
      const time = new VirtualTime(Date.now(), (ms) => sim.advanceClock(ms));
      const notes: Notification[] = [];
      const core = new DesktopCore({
        configDir: dir,
        settings: file,
        clock: time,
        scheduler: time,
        sleep: time.sleep,
        timeoutMs: 2_000,
        notifier: { show: async (n) => void notes.push(n) },
        openExternal: async () => undefined,
        applyLaunchAtLogin: () => undefined,
      });
      t.after(() => core.stop());
      const shown: DetailsState[] = [];
      core.on('state', (s) => shown.push(s));
      core.start();
      await time.runFor(1_000);
      assert.equal(core.state().status.state, 'ready');
      await until(() => sim.push.snapshot()['sockets'] === 1, 'the socket held');
      const mono = time.monotonic();
      const seq = sim.requests().at(-1)!.seq;
      await sim.apply({ type: 'drop' });
      await until(() => shown.some((s) => s.status.state === 'not-authenticated'), 'the tray state changed');
      assert.equal(time.monotonic(), mono, 'no virtual time passed');
      assert.equal(sim.requests(seq).filter((r) => r.path === '/v1/api/tickle').length, 0, 'before the next tickle');
      await until(() => notes.length > 0, 'a notification');
      assert.equal(time.monotonic(), mono, 'still no virtual time passed');
      assert.equal(notes[0]!.kind, 'drop');
    },
  );
});
