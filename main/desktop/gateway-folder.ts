/**
 * The gateway's folder as the window deals with it (no Electron): is the folder a person chose
 * IBKR's gateway, and if not, what was expected, in the words of someone who just unzipped
 * clientportal.gw.zip (docs/gateway.md, "Getting the gateway"); and which of the gateway's logs
 * "Show gateway log" opens. The checks themselves are main/gateway/folder.ts's and conf.ts's.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { GatewayLog } from '../contract.ts';
import { checkGatewayFolder, GatewayFolderError } from '../gateway/folder.ts';
import { gatewayLogFile } from '../gateway/log-watch.ts';

/** What the folder must be, said the way a person finds it. */
const EXPECTED = 'choose the folder you unzipped clientportal.gw.zip into, the one with bin/ and root/';
/** Folders inside a gateway folder that a person may pick by mistake. */
const INSIDE = new Set(['bin', 'root', 'dist', 'build', 'logs', 'lib', 'runtime']);
/** At most this many sub-folders are looked into for a gateway (a home folder may hold many). */
const MAX_CHILDREN = 200;

/** The outcome of checking a chosen folder. */
export type FolderCheck =
  | { readonly ok: true; readonly dir: string; readonly port: number }
  | { readonly ok: false; readonly dir: string; readonly message: string };

const isGatewayFolder = (dir: string): boolean => {
  try {
    checkGatewayFolder(dir);
    return true;
  } catch {
    return false;
  }
};
const isDirectory = (dir: string): boolean => {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
};

/** What a folder lacks of a gateway folder (the same parts as checkGatewayFolder asks for). */
function missingParts(dir: string): string[] {
  let jars = false;
  try {
    jars = readdirSync(path.join(dir, 'dist')).some((f) => f.endsWith('.jar'));
  } catch {
    jars = false;
  }
  return [
    existsSync(path.join(dir, 'bin', 'run.sh')) || existsSync(path.join(dir, 'bin', 'run.bat'))
      ? undefined
      : 'bin/run.sh (or bin\\run.bat)',
    existsSync(path.join(dir, 'root', 'conf.yaml')) ? undefined : 'root/conf.yaml',
    jars ? undefined : 'dist/*.jar',
  ].filter((m) => m !== undefined);
}

/** A sub-folder that is a gateway folder (a person chose the folder they unzipped into, one level up). */
function gatewayBelow(dir: string): string | undefined {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
  return entries
    .filter((e) => e.isDirectory())
    .slice(0, MAX_CHILDREN)
    .map((e) => path.join(dir, e.name))
    .find(isGatewayFolder);
}

/**
 * Checks a folder a person chose as the gateway's: IBKR's gateway (bin/run.sh or bin\run.bat,
 * root/conf.yaml that the gateway can read, its jar in dist/), with the port its conf.yaml
 * gives. A wrong folder gets one sentence: what it lacks and which folder is expected, or where
 * the gateway is when the choice was one level off (its bin/ or root/, or the folder above it).
 */
export async function checkChosenFolder(dir: string): Promise<FolderCheck> {
  const abs = path.resolve(dir);
  if (!isDirectory(abs)) {
    try {
      checkGatewayFolder(abs); // its own words for a path that is missing or a file
    } catch (error) {
      return { ok: false, dir: abs, message: (error as Error).message };
    }
  }
  if (!isGatewayFolder(abs)) {
    const parent = path.dirname(abs);
    if (INSIDE.has(path.basename(abs).toLowerCase()) && parent !== abs && isGatewayFolder(parent))
      return {
        ok: false,
        dir: abs,
        message: `This is the gateway's ${path.basename(abs)}/ folder: choose the folder above it, ${parent}.`,
      };
    const below = gatewayBelow(abs);
    if (below !== undefined)
      return { ok: false, dir: abs, message: `The gateway is in ${below}, inside this folder: choose that one.` };
    return { ok: false, dir: abs, message: `This folder has no ${missingParts(abs).join(', no ')}: ${EXPECTED}.` };
  }
  try {
    // Loaded on demand, as elsewhere in the app: it brings the YAML reader.
    const { openGatewayFolder } = await import('../gateway/conf.ts');
    const { folder, conf } = openGatewayFolder(abs);
    return { ok: true, dir: folder.dir, port: conf.config.listenPort };
  } catch (error) {
    if (error instanceof GatewayFolderError) return { ok: false, dir: abs, message: error.message };
    return { ok: false, dir: abs, message: `Could not check ${abs}: ${(error as Error).message}.` };
  }
}

/**
 * The log "Show gateway log" opens: the supervisor's console log (`consoleLog`, given while the
 * app runs the gateway), else the gateway folder's `logs/gw.YYYY-MM-DD.log` of today; the first
 * that exists. None yet: disabled, and `why` says what makes one.
 */
export function gatewayLogFor(options: {
  readonly gatewayDir: string | null;
  readonly consoleLog: string | undefined;
  readonly now: number;
}): GatewayLog {
  const { gatewayDir, consoleLog, now } = options;
  if (gatewayDir === null && consoleLog === undefined) return { shown: false, file: null, why: null };
  const today = gatewayDir === null ? undefined : gatewayLogFile(gatewayDir, now);
  const file = [consoleLog, today].find((f) => f !== undefined && existsSync(f));
  if (file !== undefined) return { shown: true, file, why: null };
  const why =
    consoleLog !== undefined
      ? `No log yet: the gateway's console goes to ${consoleLog} once the app starts it.`
      : `No log yet today: the gateway writes ${today} once it runs.`;
  return { shown: true, file: null, why };
}
