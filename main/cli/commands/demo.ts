/**
 * `ibkr-keeper demo`: the keeper on the built-in simulator through a simulated day of what IBKR's
 * gateway does to a session, in seconds (virtual time). Prints each change of state at its
 * simulated time, the notifications a person would see, and what the gateway received.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GatewayClient } from '../../session/gateway-client.ts';
import { Keeper } from '../../session/keeper.ts';
import { NotificationPolicy } from '../../session/notifications.ts';
import { memoryLedger } from '../../session/pacing.ts';
import { memoryBudget, RecoveryBudget } from '../../session/policy.ts';
import { PinnedAgent } from '../../session/tls.ts';
import { exchange } from '../../session/transport.ts';
import { TrustStore } from '../../session/trust-store.ts';
import type { SimEventInput } from '../../simulator/events.ts';
import { Simulator } from '../../simulator/server.ts';
import { VirtualTime } from '../../simulator/virtual-time.ts';
import { describe } from '../context.ts';

const HOUR = 3_600_000;

/** What happens, and when (simulated hours after 06:00). */
const DAY: Array<{
  at: number;
  say: string;
  events?: SimEventInput[];
  flood?: true;
  suspendMs?: number;
  user?: 'take-over' | 'open-login' | 'login' | 'trust';
}> = [
  {
    at: 0.5,
    say: 'A script polls the gateway too fast: one answer fails, the next is fine',
    events: [{ type: 'fault', fault: 'server-error', path: '/tickle' }],
  },
  { at: 1.5, say: 'The brokerage session drops (IBKR logged it out)', events: [{ type: 'drop' }] },
  {
    at: 3,
    say: 'You log in to TWS on another computer; it takes the session',
    events: [{ type: 'compete', kicked: true }],
  },
  { at: 3.5, say: 'You choose "Take over" (the keeper never does by itself)', user: 'take-over' },
  { at: 6, say: "IBKR restarts the gateway's connection (daily reset)", events: [{ type: 'restart', duration: '4m' }] },
  { at: 9, say: 'The laptop sleeps for two hours', suspendMs: 2 * HOUR },
  { at: 12, say: 'The weekly token reset ends the login', events: [{ type: 'expire-sso' }] },
  { at: 12.5, say: 'You choose "Open login page" and log in', user: 'open-login' },
  { at: 12.52, say: '', user: 'login' },
  { at: 15, say: 'Another program floods the gateway: IBKR puts this computer in the penalty box', flood: true },
  { at: 18, say: 'The gateway is reinstalled with a new certificate', events: [{ type: 'rotate-certificate' }] },
  { at: 18.25, say: 'You check the new fingerprint and trust it (ibkr-keeper trust accept)', user: 'trust' },
  {
    at: 19.5,
    say: 'TWS on another computer takes the session back a minute after each time it loses it',
    events: [{ type: 'compete', kicked: true, takeBackAfter: '1m', shows: 'not-authenticated' }],
  },
  { at: 20.5, say: 'You close TWS there and choose "Take over"', events: [{ type: 'recover' }], user: 'take-over' },
];

/** Twelve tickles at once, from a client that keeps no pace, as a careless script would send. */
async function flood(sim: Simulator): Promise<void> {
  // The simulator's certificate is shaped like IBKR's (expired, no subjectAltName): pinned, as any client must.
  const agent = new PinnedAgent(sim.fingerprint256, { keepAlive: true, timeoutMs: 5_000 });
  const send = (): Promise<unknown> =>
    exchange(`${sim.url}/v1/api/tickle`, { method: 'POST', agent, headers: {}, timeoutMs: 5_000 }).catch(
      () => undefined,
    );
  await Promise.all(Array.from({ length: 12 }, send));
  agent.destroy();
}

/** Runs the day and prints it. */
export async function runDemo(options: { reauthLatency: number }): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ibkr-keeper-demo-'));
  const sim = await Simulator.start({ settings: { reauthLatencyMs: options.reauthLatency * 1_000 } });
  // The day starts at the next 06:00; the simulated user logs in then.
  const start = new Date();
  start.setHours(30, 0, 0, 0);
  sim.advanceClock(start.getTime() - sim.now());
  await sim.apply({ type: 'login' });
  const time = new VirtualTime(start.getTime(), (ms) => sim.advanceClock(ms));
  const trust = new TrustStore(dir);
  const client = new GatewayClient({
    gateway: sim.url,
    trust,
    pacing: memoryLedger(),
    now: () => time.wall(),
    sleep: time.sleep,
    timeoutMs: 5_000,
  });
  const keeper = new Keeper({
    client,
    clock: time,
    scheduler: time,
    budget: new RecoveryBudget(memoryBudget()),
    intervalMs: 60_000,
  });
  const policy = new NotificationPolicy();
  const clock = (): string => new Date(time.wall()).toTimeString().slice(0, 8);
  const out = (line: string): boolean => process.stdout.write(`${line}\n`);
  keeper.on('transition', (t) =>
    out(`${clock()}  ${describe({ state: t.state, reason: t.reason, facts: t.facts }, false)}`),
  );
  keeper.on('status', (s) => {
    for (const note of policy.update(s, time.monotonic()))
      out(`${clock()}    [notification] ${note.title}: ${note.message}`);
  });
  keeper.on('log', (line) => out(`${clock()}  (${line})`));
  out(`The keeper on a simulated gateway (${sim.url}) through one day, in virtual time:\n`);
  try {
    keeper.start();
    let elapsed = 0;
    for (const step of DAY) {
      await time.runFor(step.at * HOUR - elapsed);
      elapsed = step.at * HOUR;
      if (step.say) out(`\n${clock()} > ${step.say}`);
      for (const event of step.events ?? []) await sim.apply(event);
      if (step.flood) await flood(sim);
      if (step.suspendMs) time.suspend(step.suspendMs);
      if (step.user === 'take-over') await keeper.takeOver();
      if (step.user === 'open-login') keeper.openLoginPage();
      if (step.user === 'login') await sim.apply({ type: 'login' });
      if (step.user === 'trust')
        trust.record(sim.url, { fingerprint256: sim.fingerprint256, pem: sim.certificatePem, source: 'user' });
    }
    await time.runFor(24 * HOUR - elapsed);
    const sent = sim.requests().length;
    out(
      `\n${clock()}  The day is over: ${sent} requests reached the ` +
        `gateway, ${sim.limiter.violations} over IBKR's limits (the flooding ` +
        `script's), ${sim.maxInFlight} at a time at most.`,
    );
    out(
      'Try it live: `npx ibkr-keeper simulate` in one terminal, `npx ibkr-keeper watch --gateway ' +
        'https://127.0.0.1:5050` in another.',
    );
  } finally {
    await keeper.stop();
    await client.close();
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
