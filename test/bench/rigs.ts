/**
 * The two keepers of the benchmark on a fresh simulator each, in virtual time, reporting when
 * they noticed a drop and when they saw the session back.
 */
import { GatewayClient } from '../../main/session/gateway-client.ts';
import { Keeper } from '../../main/session/keeper.ts';
import { memoryLedger } from '../../main/session/pacing.ts';
import { memoryBudget, RecoveryBudget } from '../../main/session/policy.ts';
import { TrustStore } from '../../main/session/trust-store.ts';
import type { ModelSettings } from '../../main/simulator/model.ts';
import { Simulator } from '../../main/simulator/server.ts';
import { VirtualTime } from '../../main/simulator/virtual-time.ts';
import { IbeamBaseline } from './baseline.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export type Kind = 'keeper' | 'baseline';

export interface Rig {
  readonly sim: Simulator;
  readonly time: VirtualTime;
  /** Monotonic times at which the client noticed a drop, and saw the session ready again. */
  detections(): number[];
  recoveries(): number[];
  stop(): Promise<void>;
}

export async function startRig(kind: Kind, settings: Partial<ModelSettings> = {}, random: () => number = Math.random): Promise<Rig> {
  const sim = await Simulator.start({ settings });
  const time = new VirtualTime(Date.now(), (ms) => sim.advanceClock(ms));
  if (kind === 'baseline') {
    const baseline = new IbeamBaseline(sim, time);
    baseline.start();
    return {
      sim,
      time,
      detections: () => baseline.detections,
      recoveries: () => baseline.recoveries,
      stop: async () => {
        baseline.stop();
        await sim.stop();
      },
    };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'ibkr-keeper-bench-'));
  const client = new GatewayClient({ gateway: sim.url, trust: new TrustStore(dir), pacing: memoryLedger(), now: () => time.wall(), sleep: time.sleep, timeoutMs: 5_000 });
  const keeper = new Keeper({ client, clock: time, scheduler: time, budget: new RecoveryBudget(memoryBudget(), random), intervalMs: 60_000 });
  const detections: number[] = [];
  const recoveries: number[] = [];
  keeper.on('transition', (t) => {
    if (t.previous === 'ready') detections.push(time.monotonic());
    if (t.state === 'ready' && t.previous !== 'starting') recoveries.push(time.monotonic());
  });
  keeper.start();
  return {
    sim,
    time,
    detections: () => detections,
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
