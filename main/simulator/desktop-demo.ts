/**
 * `npm run demo`: the simulator and the desktop app against it, with a temporary config folder, so
 * a person can watch the tray go green, amber, orange, red and grey, and try every action. The
 * simulator's control port stays open for more (see the README). A development tool: it lives
 * with the simulator, and nothing of it is packaged.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SETTINGS, SettingsFile } from '../session/settings.ts';
import { ControlServer } from './control.ts';
import { loadScenario } from './scenario.ts';
import { Simulator } from './server.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The Electron binary's path, or a message that says how to get it. */
function electronBinary(): string {
  try {
    return createRequire(import.meta.url)('electron') as string;
  } catch (error) {
    process.stderr.write(
      `Electron's binary is not installed here ` +
        `(${(error as Error).message.split('\n')[0]})\nOn a desktop with network access run \`npx ` +
        `install-electron\`, then \`npm run demo\` again. Meanwhile \`npx ibkr-keeper demo\` shows the keeper ` +
        `without the app.\n`,
    );
    process.exit(1);
  }
}

const electron = electronBinary();
const scenario = await loadScenario(path.join(ROOT, 'docs/scenarios/desktop-tour.json'));
const sim = await Simulator.start({ scenario, settings: { reauthLatencyMs: 3_000 } });
const control = await ControlServer.start(sim);
const dir = mkdtempSync(path.join(tmpdir(), 'ibkr-keeper-desktop-demo-'));
SettingsFile.open(dir).write({ ...DEFAULT_SETTINGS, gateway: sim.url, intervalSeconds: 5 });
process.stdout.write(
  `Simulated gateway ${sim.url}; control ${control.url}; ` +
    `config ${dir}\nThe tray icon follows docs/scenarios/desktop-tour.json. Quit the app to end the demo.\n`,
);
const app = spawn(electron, [ROOT], {
  stdio: 'inherit',
  env: { ...process.env, IBKR_KEEPER_CONFIG_DIR: dir, IBKR_KEEPER_SHOW_DETAILS: '1' },
});
app.on('exit', async (code) => {
  await Promise.all([control.stop(), sim.stop()]);
  rmSync(dir, { recursive: true, force: true });
  process.exit(code ?? 0);
});
