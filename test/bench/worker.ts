/**
 * One keeper alone in a process for the benchmark's CPU and memory figures: `node worker.js
 * keeper|baseline HOURS` runs it with its simulator for HOURS simulated hours (a drop each hour)
 * and prints {cpuMsPerHour, maxRssMb} as JSON.
 */
import { startRig, type Kind } from './rigs.ts';

const kind = process.argv[2] as Kind;
const hours = Number(process.argv[3] ?? 24);
const rig = await startRig(kind, { reauthLatencyMs: 5_000 });
await rig.time.runFor(60_000);
const before = process.cpuUsage();
for (let h = 0; h < hours; h += 1) {
  await rig.time.runFor(1_800_000);
  await rig.sim.apply({ type: 'drop' });
  await rig.time.runFor(1_800_000);
}
const cpu = process.cpuUsage(before);
await rig.stop();
process.stdout.write(
  `${JSON.stringify({
    cpuMsPerHour: (cpu.user + cpu.system) / 1_000 / hours,
    maxRssMb: process.resourceUsage().maxRSS / 1_024,
  })}\n`,
);
