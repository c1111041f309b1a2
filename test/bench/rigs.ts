/**
 * The two keepers of the benchmark on a fresh simulator each, in virtual time, reporting when
 * they noticed a drop and when they saw the session back.
 */
import { GatewayClient } from '../../main/session/gateway-client.ts';
import { Keeper } from '../../main/session/keeper.ts';
import { memoryLedger } from '../../main/session/pacing.ts';
import { memoryBudget, RecoveryBudget } from '../../main/session/policy.ts';
import { pushFor } from '../../main/session/push.ts';
import { TrustStore } from '../../main/session/trust-store.ts';
import type { ModelSettings } from '../../main/simulator/model.ts';
import { Simulator } from '../../main/simulator/server.ts';
import { VirtualTime } from '../../main/simulator/virtual-time.ts';
import { IbeamBaseline } from './baseline.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** `push`: the keeper holding the gateway's WebSocket (main/session/push.ts); `keeper`: polling alone. */
export type Kind = 'keeper' | 'push' | 'baseline';

/**
 * The keeper as the benchmark runs it against `sim` in virtual time: its pins in `dir`, pacing and
 * recovery budget in memory, 5 s timeouts; with the gateway's WebSocket when `push`.
 */
export function virtualKeeper(
  sim: Simulator,
  time: VirtualTime,
  dir: string,
  options: { intervalMs: number; push?: boolean; random?: () => number },
): { client: GatewayClient; keeper: Keeper; push: ReturnType<typeof pushFor> | undefined } {
  const client = new GatewayClient({
    gateway: sim.url,
    trust: new TrustStore(dir),
    pacing: memoryLedger(),
    now: () => time.wall(),
    sleep: time.sleep,
    timeoutMs: 5_000,
  });
  const push = options.push ? pushFor(client, time, time, 5_000) : undefined;
  const keeper = new Keeper({
    client,
    clock: time,
    scheduler: time,
    push,
    budget: new RecoveryBudget(memoryBudget(), options.random),
    intervalMs: options.intervalMs,
  });
  return { client, keeper, push };
}

export interface Rig {
  readonly sim: Simulator;
  readonly time: VirtualTime;
  /** Monotonic times at which the client noticed a drop, and saw the session ready again. */
  detections(): number[];
  /** For each detection, the real time (performance.now) it happened: push notices between virtual steps. */
  detectionsReal(): number[];
  /** The simulator's time at each doubt push raised (kind `push`). */
  doubts(): number[];
  recoveries(): number[];
  stop(): Promise<void>;
}

export async function startRig(
  kind: Kind,
  settings: Partial<ModelSettings> = {},
  random: () => number = Math.random,
): Promise<Rig> {
  const sim = await Simulator.start({ settings });
  const time = new VirtualTime(Date.now(), (ms) => sim.advanceClock(ms));
  if (kind === 'baseline') {
    const baseline = new IbeamBaseline(sim, time);
    baseline.start();
    return {
      sim,
      time,
      detections: () => baseline.detections,
      detectionsReal: () => [],
      doubts: () => [],
      recoveries: () => baseline.recoveries,
      stop: async () => {
        baseline.stop();
        await sim.stop();
      },
    };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'ibkr-keeper-bench-'));
  const { client, keeper, push } = virtualKeeper(sim, time, dir, {
    intervalMs: 60_000,
    push: kind === 'push',
    random,
  });
  const detections: number[] = [];
  const detectionsReal: number[] = [];
  const doubts: number[] = [];
  push?.on('doubt', () => doubts.push(sim.now()));
  const recoveries: number[] = [];
  keeper.on('transition', (t) => {
    if (t.previous === 'ready') {
      detections.push(time.monotonic());
      detectionsReal.push(performance.now());
    }
    if (t.state === 'ready' && t.previous !== 'starting') recoveries.push(time.monotonic());
  });
  keeper.start();
  return {
    sim,
    time,
    detections: () => detections,
    detectionsReal: () => detectionsReal,
    doubts: () => doubts,
    recoveries: () => recoveries,
    stop: async () => {
      await keeper.stop();
      await client.close();
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A small seeded generator (mulberry32), so every run draws the same "random" moments. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
