/** A keeper on the simulator in virtual time, with everything it did recorded, for tests. */
import type { TestContext } from 'node:test';
import { GatewayClient } from '../main/session/gateway-client.ts';
import { Keeper, type Transition } from '../main/session/keeper.ts';
import { NotificationPolicy, type Notification } from '../main/session/notifications.ts';
import { memoryLedger } from '../main/session/pacing.ts';
import { memoryBudget, RecoveryBudget, type BudgetStorage } from '../main/session/policy.ts';
import { pushFor, type PushChannel } from '../main/session/push.ts';
import { TrustStore } from '../main/session/trust-store.ts';
import type { ModelSettings } from '../main/simulator/model.ts';
import type { Simulator } from '../main/simulator/server.ts';
import { VirtualTime } from '../main/simulator/virtual-time.ts';
import { startSim, tempDir } from './helpers.ts';

export interface KeeperRig {
  sim: Simulator;
  time: VirtualTime;
  keeper: Keeper;
  client: GatewayClient;
  dir: string;
  transitions: Array<Transition & { mono: number }>;
  notes: Array<Notification & { mono: number }>;
  logs: string[];
  /** Requests the simulator received on `path` (without /v1/api) since the rig started, or since `seq`. */
  count(path: string, sinceSeq?: number): number;
  /** The simulator's request sequence number now. */
  seq(): number;
  /** The gateway's WebSocket, when the rig was asked for it (`push: true`). */
  push: PushChannel | undefined;
}

export async function keeperRig(
  t: TestContext,
  options: {
    settings?: Partial<ModelSettings>;
    intervalMs?: number;
    budget?: BudgetStorage;
    dir?: string;
    sim?: Simulator;
    push?: boolean;
  } = {},
): Promise<KeeperRig> {
  const sim = options.sim ?? (await startSim(t, { settings: options.settings }));
  const dir = options.dir ?? tempDir(t);
  const time = new VirtualTime(Date.now(), (ms) => sim.advanceClock(ms));
  const client = new GatewayClient({
    gateway: sim.url,
    trust: new TrustStore(dir),
    pacing: memoryLedger(),
    now: () => time.wall(),
    sleep: time.sleep,
    timeoutMs: 2_000,
  });
  const push = options.push ? pushFor(client, time, time, 2_000) : undefined;
  const keeper = new Keeper({
    client,
    clock: time,
    scheduler: time,
    push,
    budget: new RecoveryBudget(options.budget ?? memoryBudget(), () => 0.5),
    intervalMs: options.intervalMs ?? 60_000,
  });
  const policy = new NotificationPolicy();
  const rig: KeeperRig = {
    sim,
    time,
    keeper,
    client,
    dir,
    transitions: [],
    notes: [],
    logs: [],
    count: (path, sinceSeq = 0) => sim.requests(sinceSeq).filter((r) => r.path === `/v1/api${path}`).length,
    seq: () => sim.requests().at(-1)?.seq ?? 0,
    push,
  };
  keeper.on('transition', (tr) => rig.transitions.push({ ...tr, mono: time.monotonic() }));
  keeper.on('status', (s) =>
    rig.notes.push(...policy.update(s, time.monotonic()).map((n) => ({ ...n, mono: time.monotonic() }))),
  );
  keeper.on('log', (line) => rig.logs.push(line));
  t.after(async () => {
    await keeper.stop();
    await client.close();
  });
  keeper.start();
  return rig;
}

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
