/** The control interface and scenario files drive the simulator; bad input is named. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { request } from 'undici';
import { ControlServer } from '../../main/simulator/control.ts';
import { loadScenario } from '../../main/simulator/scenario.ts';
import { raw, startSim, tempDir } from '../helpers.ts';

async function control(url: string, method: string, pathname: string, body?: unknown, host?: string) {
  const response = await request(`${url}${pathname}`, {
    method: method as 'GET',
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    headers: host ? { host } : {},
  });
  return { status: response.statusCode, json: (await response.body.json()) as any };
}

describe('control interface', () => {
  test('switches states, reports the state and every request received', async (t) => {
    const sim = await startSim(t);
    const ctl = await ControlServer.start(sim);
    t.after(() => ctl.stop());
    const state = await control(ctl.url, 'GET', '/state');
    assert.equal(state.json.brokerage, 'authenticated');
    assert.equal(state.json.fingerprint256, sim.fingerprint256);
    const after = await control(ctl.url, 'POST', '/events', [
      { type: 'compete' },
      { type: 'configure', reauthLatency: '2s' },
    ]);
    assert.equal(after.status, 200);
    assert.equal(after.json.brokerage, 'kicked');
    assert.equal(after.json.settings.reauthLatencyMs, 2_000);
    await raw(sim, 'POST', '/v1/api/tickle');
    const log = await control(ctl.url, 'GET', '/requests');
    assert.deepEqual(log.json.counts, { '/v1/api/tickle': 1 });
    assert.equal(log.json.requests[0].status, 200);
    await control(ctl.url, 'DELETE', '/requests');
    assert.deepEqual((await control(ctl.url, 'GET', '/requests')).json.requests, []);
  });

  test('a bad event is refused with the field named; a foreign Host header is refused', async (t) => {
    const sim = await startSim(t);
    const ctl = await ControlServer.start(sim);
    t.after(() => ctl.stop());
    const bad = await control(ctl.url, 'POST', '/events', { type: 'fault', fault: 'gremlins' });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error, /"fault"/);
    const notJson = await control(ctl.url, 'POST', '/events', 'drop');
    assert.equal(notJson.status, 400);
    assert.match(notJson.json.error, /not JSON/);
    const foreign = await control(ctl.url, 'GET', '/state', undefined, 'evil.example:80');
    assert.equal(foreign.status, 403);
    assert.equal(sim.model.brokerage, 'authenticated', 'nothing was applied');
  });
});

describe('scenario files', () => {
  test('events happen at their time on the simulator clock', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'night.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'night',
        events: [
          { at: '2m', type: 'drop' },
          { at: 1_000, type: 'compete', kicked: false },
        ],
      }),
    );
    const scenario = await loadScenario(file);
    assert.deepEqual(
      scenario.events.map((e) => e.at),
      [1_000, 120_000],
      'sorted by time',
    );
    const sim = await startSim(t, { scenario });
    await sim.apply({ type: 'advance', by: '1500ms' });
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(sim.model.brokerage, 'competing');
    await sim.apply({ type: 'advance', by: '2m' });
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(sim.model.brokerage, 'disconnected');
  });

  test('a bad scenario file names the file and the problem', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ events: [{ at: 'soon', type: 'drop' }] }));
    await assert.rejects(loadScenario(file), /bad\.json has a problem at "events\.0\.at"/);
    writeFileSync(file, '{ not json');
    await assert.rejects(loadScenario(file), /bad\.json is not valid JSON/);
    await assert.rejects(loadScenario(path.join(dir, 'missing.json')), /Cannot read the scenario file .*ENOENT/);
  });
});

describe('the scenario files shipped in docs/scenarios', () => {
  test('each one loads', async () => {
    const { readdirSync } = await import('node:fs');
    const { ROOT } = await import('../helpers.ts');
    const dir = path.join(ROOT, 'docs/scenarios');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 2);
    for (const file of files) assert.ok((await loadScenario(path.join(dir, file))).events.length > 0, file);
  });
});
