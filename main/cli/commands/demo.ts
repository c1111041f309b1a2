/**
 * `ibkr-keeper demo`: a tour of the session states on the built-in simulator, with the same
 * checks `status`, `reauth` and `trust` make. Uses a temporary config folder, removed afterwards.
 */
import type { Command } from 'commander';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { checkSession } from '../../session/check.ts';
import { classify, type Classification } from '../../session/classify.ts';
import { GatewayClient } from '../../session/gateway-client.ts';
import { memoryLedger } from '../../session/pacing.ts';
import { probeCertificate } from '../../session/tls.ts';
import { TrustStore } from '../../session/trust-store.ts';
import type { SimEventInput } from '../../simulator/events.ts';
import { Simulator } from '../../simulator/server.ts';
import { describe, positiveNumber } from '../context.ts';
import { followReauth } from './session.ts';

interface Step {
  readonly title: string;
  readonly events?: SimEventInput[];
  readonly act?: (tour: Tour) => Promise<Classification>;
}

interface Tour {
  readonly sim: Simulator;
  readonly client: GatewayClient;
  readonly trust: TrustStore;
}

const reauth = async ({ client }: Tour): Promise<Classification> => {
  const trigger = await client.reauthenticate();
  return trigger.kind === 'answer' ? followReauth(client) : classify({ reauth: trigger }, client.address.origin);
};

const STEPS: Step[] = [
  { title: 'The gateway runs, with a paper user logged in' },
  { title: 'The brokerage session times out (idle, or the daily reset)', events: [{ type: 'drop' }] },
  { title: '`ibkr-keeper reauth` logs in again while the login is valid', act: reauth },
  { title: 'TWS logs in elsewhere and takes the session', events: [{ type: 'compete', kicked: true }] },
  {
    title: '`ibkr-keeper reauth --take-over` takes it back, on purpose',
    act: async ({ client }) => {
      const trigger = await client.ssoInit(true);
      return trigger.kind === 'answer' ? followReauth(client, true) : classify({ reauth: trigger }, client.address.origin);
    },
  },
  { title: 'IBKR restarts: the gateway answers 503', events: [{ type: 'restart', duration: '30s' }] },
  { title: 'The restart is over; it took the brokerage session with it', events: [{ type: 'advance', by: '31s' }] },
  { title: '`ibkr-keeper reauth` again', act: reauth },
  { title: 'The login itself expires (weekly token reset)', events: [{ type: 'expire-sso' }] },
  { title: 'You log in on the gateway\'s login page', events: [{ type: 'login' }] },
  { title: 'The gateway is reinstalled and presents a new certificate', events: [{ type: 'rotate-certificate' }] },
  {
    title: 'You check it and run `ibkr-keeper trust accept`',
    act: async (tour) => {
      const { hostname, port, origin } = tour.client.address;
      const seen = await probeCertificate(hostname, port, 5_000);
      tour.trust.record(origin, { fingerprint256: seen.fingerprint256, pem: seen.pem, source: 'user' });
      return checkSession(tour.client);
    },
  },
  {
    title: 'Another program floods the gateway and gets this computer rate-limited',
    act: async (tour) => {
      await flood(tour.sim);
      return checkSession(tour.client);
    },
  },
  { title: 'Ten quiet minutes later the penalty is over, but the idle session timed out', events: [{ type: 'advance', by: '10m' }] },
  { title: '`ibkr-keeper reauth` once more', act: reauth },
];

/** Twelve tickles at once from a client that keeps no pace, as a careless script would. */
async function flood(sim: Simulator): Promise<void> {
  const agent = new Agent({ connect: { ca: [sim.certificatePem] } });
  try {
    await Promise.all(
      Array.from({ length: 12 }, () => request(`${sim.url}/v1/api/tickle`, { method: 'POST', dispatcher: agent }).then((r) => r.body.dump())),
    );
  } finally {
    await agent.close();
  }
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('tour every session state on the built-in simulator (nothing to install, no gateway needed)')
    .option('--reauth-latency <seconds>', 'seconds the simulated reauthentication takes', positiveNumber('--reauth-latency', 0), 3)
    .action(async (options: { reauthLatency: number }) => {
      const dir = await mkdtemp(path.join(tmpdir(), 'ibkr-keeper-demo-'));
      const sim = await Simulator.start({ settings: { reauthLatencyMs: options.reauthLatency * 1_000 } });
      const trust = new TrustStore(dir);
      // The pacer follows the simulator's clock, so "ten minutes later" is ten minutes for both.
      const client = new GatewayClient({ gateway: sim.url, trust, pacing: memoryLedger(), now: () => sim.now() });
      const tour: Tour = { sim, client, trust };
      process.stdout.write(`Simulated gateway at ${sim.url} (certificate SHA-256 ${sim.fingerprint256.slice(0, 23)}…)\n\n`);
      try {
        for (const [index, step] of STEPS.entries()) {
          process.stdout.write(`${String(index + 1).padStart(2)}. ${step.title}\n`);
          for (const event of step.events ?? []) await sim.apply(event);
          const result = step.act ? await step.act(tour) : await checkSession(client);
          process.stdout.write(`    -> ${describe(result)}\n`);
        }
        const counts = sim.counts();
        const sent = Object.values(counts).reduce((a, b) => a + b, 0);
        process.stdout.write(`\nThe gateway received ${sent} requests in all; the keeper's own never broke a rate limit.\n`);
      } finally {
        await client.close();
        await sim.stop();
        await rm(dir, { recursive: true, force: true });
      }
    });
}
