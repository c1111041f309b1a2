/**
 * `npm run soak`: `ibkr-keeper watch` at a 1 s interval against the simulator, in real time,
 * through a seeded random mix of faults for 10 minutes (`SOAK_SECONDS` changes it). It samples
 * the process's memory every 10 s and checks, at the end, that the keeper never crashed, never
 * broke a rate limit, never had two requests in flight, and that its memory stayed flat. The
 * figures go to docs/soak.md.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SimEventInput } from '../../main/simulator/events.ts';
import { Simulator } from '../../main/simulator/server.ts';
import { ROOT } from '../helpers.ts';
import { seeded } from './rigs.ts';

const SECONDS = Number(process.env['SOAK_SECONDS'] ?? 600);
const random = seeded(20261129);

/** The fault mix: each entry is what happens, then what ends it (after `lasts` ms), if anything. */
const MIX: Array<{ name: string; start: SimEventInput[]; lasts?: number; end?: SimEventInput[] }> = [
  { name: 'drop', start: [{ type: 'drop' }] },
  { name: 'no session', start: [{ type: 'unauthenticate' }] },
  {
    name: 'competing login',
    start: [{ type: 'compete' }],
    lasts: 8_000,
    end: [{ type: 'recover' }, { type: 'login' }],
  },
  { name: 'login ended', start: [{ type: 'expire-sso' }], lasts: 6_000, end: [{ type: 'login' }] },
  { name: 'IBKR restart', start: [{ type: 'restart', duration: '15s' }] },
  { name: 'no bridge', start: [{ type: 'no-bridge', duration: '8s' }] },
  { name: 'Access Denied', start: [{ type: 'access-denied', duration: '6s' }] },
  { name: '500', start: [{ type: 'fault', fault: 'server-error', count: 2 }] },
  { name: 'malformed body', start: [{ type: 'fault', fault: 'malformed', count: 2 }] },
  { name: 'truncated body', start: [{ type: 'fault', fault: 'truncated', count: 2 }] },
  { name: 'empty body', start: [{ type: 'fault', fault: 'empty', count: 2 }] },
  { name: 'unexpected shape', start: [{ type: 'fault', fault: 'unexpected-shape', count: 2 }] },
  { name: 'connection reset', start: [{ type: 'fault', fault: 'reset', count: 2 }] },
  { name: 'slow answer', start: [{ type: 'fault', fault: 'slow', delay: '4s' }] },
  { name: 'SSO RESULT:false', start: [{ type: 'fault', fault: 'sso-invalid' }] },
];

function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1_024;
}

async function main(): Promise<void> {
  const sim = await Simulator.start({ settings: { reauthLatencyMs: 1_000 } });
  const dir = mkdtempSync(path.join(tmpdir(), 'ibkr-keeper-soak-'));
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, 'bin/ibkr-keeper.js'),
      'watch',
      '--json',
      '--interval',
      '1',
      '--timeout',
      '2',
      '--gateway',
      sim.url,
      '--config-dir',
      dir,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const states = new Map<string, number>();
  let lines = 0;
  let stderr = '';
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines += 1;
    const state = (JSON.parse(line) as { state: string }).state;
    states.set(state, (states.get(state) ?? 0) + 1);
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let exit: number | null | undefined;
  child.on('exit', (code) => (exit = code));

  const started = Date.now();
  const samples: Array<{ at: number; rss: number }> = [];
  const applied = new Map<string, number>();
  let nextFault = started + 5_000;
  let nextSample = started;
  const ends: Array<{ at: number; events: SimEventInput[] }> = [];
  while (Date.now() - started < SECONDS * 1_000 && exit === undefined) {
    const now = Date.now();
    if (now >= nextSample) {
      samples.push({ at: (now - started) / 1_000, rss: rssMb(child.pid!) });
      nextSample += 10_000;
    }
    for (const end of ends.filter((e) => e.at <= now)) {
      for (const event of end.events) await sim.apply(event);
      ends.splice(ends.indexOf(end), 1);
    }
    if (now >= nextFault) {
      const pick = MIX[Math.floor(random() * MIX.length)]!;
      for (const event of pick.start) await sim.apply(event);
      if (pick.end) ends.push({ at: now + (pick.lasts ?? 0), events: pick.end });
      applied.set(pick.name, (applied.get(pick.name) ?? 0) + 1);
      nextFault = now + 5_000 + Math.floor(random() * 10_000);
    }
    await sleep(200);
  }
  const alive = exit === undefined;
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) =>
    exit !== undefined ? resolve(exit) : child.once('exit', resolve),
  );
  const snapshot = sim.snapshot();
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });

  const third = Math.max(1, Math.floor(samples.length / 3));
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  // After the first minute (start-up), the first and last thirds of the run.
  const steady = samples.filter((s) => s.at >= 60);
  const early = mean(steady.slice(0, third).map((s) => s.rss));
  const late = mean(steady.slice(-third).map((s) => s.rss));
  const peak = Math.max(...samples.map((s) => s.rss));
  const result = {
    seconds: Math.round((Date.now() - started) / 1_000),
    alive,
    exitCode: code,
    faults: [...applied.values()].reduce((a, b) => a + b, 0),
    lines,
    requests: snapshot['requestsReceived'] as number,
    violations: snapshot['rateLimitViolations'] as number,
    maxInFlight: snapshot['maxInFlight'] as number,
    early,
    late,
    peak,
    unexpected: /unexpected error|\n\s+at /i.test(stderr),
  };
  const flat = late / early <= 1.1;
  const ok =
    result.alive &&
    result.exitCode === 0 &&
    result.violations === 0 &&
    result.maxInFlight <= 1 &&
    flat &&
    !result.unexpected;
  const doc =
    `# Soak: \`watch\` through a random fault mix

\`npm run soak\` (test/bench/soak.ts) runs \`ibkr-keeper watch --interval 1\` against the simulator in real
time for ${result.seconds} s, applying a seeded random fault every 5 to 15 s, and samples the process's
resident memory every 10 s. Last run: ${new Date().toISOString().slice(0, 10)}, ` +
    `Node ${process.versions.node}, ${process.arch}.

| measure | result |
| --- | --- |
| still running at the end, then stopped by SIGTERM | ${result.alive ? 'yes' : '**no**'}, exit ${result.exitCode} |
| faults applied | ${result.faults} (${[...applied].map(([k, v]) => `${k} ${v}`).join(', ')}) |
| changes of state printed | ${result.lines} (${[...states].map(([k, v]) => `${k} ${v}`).join(', ')}) |
| requests the simulator received | ${result.requests} |
| rate-limit violations | ${result.violations} |
| most requests in flight at once | ${result.maxInFlight} |
| memory (RSS) after the first minute: first third, last third ` +
    `| ${early.toFixed(1)} MB, ${late.toFixed(1)} MB (ratio ${(late / early).toFixed(2)}) |
| peak RSS | ${peak.toFixed(1)} MB |
| a crash, an unexpected error or a stack trace on stderr | ${result.unexpected ? '**yes**' : 'none'} |

Verdict: ${ok ? 'held' : '**failed**'}.

RSS samples (seconds: MB): ${samples.map((s) => `${Math.round(s.at)}: ${s.rss.toFixed(1)}`).join(', ')}.
`;
  writeFileSync(path.join(ROOT, 'docs/soak.md'), doc);
  process.stdout.write(doc);
  if (!ok) {
    process.stderr.write(`soak failed; stderr of watch:\n${stderr.slice(-4_000)}\n`);
    process.exitCode = 1;
  }
}

await main();
