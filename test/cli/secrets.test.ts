/**
 * The session id never appears whole anywhere the program writes, even from a gateway that puts
 * it in every field of every answer and cuts a body off right after it: stdout (lines and JSON),
 * stderr, the health server, and every file in the config folder.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { runCli, spawnCli, startSim, tempDir } from '../helpers.ts';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

test('a gateway that leaks the session id everywhere: it is never written whole', async (t) => {
  const sim = await startSim(t, { settings: { reauthLatencyMs: 500 } });
  const dir = tempDir(t);
  const watch = spawnCli(t, [
    'watch',
    '--json',
    '--interval',
    '1',
    '--gateway',
    sim.url,
    '--config-dir',
    dir,
    '--health-port',
    '0',
  ]);
  const { child } = watch;
  const ids = new Set<string>();
  const sample = setInterval(() => sim.model.session && ids.add(sim.model.session), 20);
  t.after(() => clearInterval(sample));
  while (!watch.stdout().includes('"ready"')) await new Promise((r) => setTimeout(r, 50));
  const health = /Health: (http:\/\/127\.0\.0\.1:\d+)/.exec(watch.stderr())![1]!;

  await sim.apply({ type: 'fault', fault: 'leak-session', count: 40 });
  await sim.apply({ type: 'fault', fault: 'malformed', count: 2, path: '/tickle' });
  const oneShots = [];
  for (const command of ['status', 'tickle', 'validate']) {
    oneShots.push(await runCli([command, '--json', '--gateway', sim.url, '--config-dir', dir]));
    oneShots.push(await runCli([command, '--gateway', sim.url, '--config-dir', dir]));
  }
  await new Promise((r) => setTimeout(r, 6_000));
  const served = await (await request(`${health}/status`)).body.text();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  clearInterval(sample);
  const stdout = watch.stdout();
  const stderr = watch.stderr();

  assert.ok(ids.size > 0);
  assert.match(stdout, /keeper|not-authenticated|gateway-down/, 'the leaking answers were seen');
  const written: Record<string, string> = { stdout, stderr, served };
  oneShots.forEach((r, i) =>
    Object.assign(written, { [`one-shot ${i} stdout`]: r.stdout, [`one-shot ${i} stderr`]: r.stderr }),
  );
  for (const file of filesUnder(dir)) written[file] = readFileSync(file, 'utf8');
  for (const [where, text] of Object.entries(written)) {
    for (const id of ids) {
      assert.ok(!text.includes(id), `the session id ${id.slice(0, 4)}… appears whole in ${where}`);
    }
  }
  // The redacted form is there, so the test looked where the id would have been.
  assert.match(Object.values(written).join('\n'), /[0-9a-f]{4}…[0-9a-f]{4}/);
});
