/**
 * Is this the folder where a person unzipped IBKR's Client Portal Gateway? (bin/run.sh or
 * bin\run.bat, root/conf.yaml, dist/*.jar.) File system only, so settings can check a folder
 * without loading the YAML reader (main/gateway/conf.ts reads conf.yaml).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../session/errors.ts';

/** What makes a folder a gateway folder, for messages. */
export const GATEWAY_FOLDER_EXPECTED =
  'bin/run.sh or bin\\run.bat, root/conf.yaml and dist/*.jar, as in the folder where you unzipped clientportal.gw.zip';

/** The paths of a gateway folder that the keeper uses. */
export interface GatewayFolder {
  /** The folder, absolute. */
  readonly dir: string;
  /** `root/conf.yaml`, absolute. */
  readonly conf: string;
  /** `root/`, on the gateway's class path (a bare `sslCert` file name is looked up there). */
  readonly root: string;
  /** `bin/run.sh` or `bin\run.bat`, whichever exists (run.sh first). */
  readonly launcher: string;
  /** The jar(s) in `dist/`. */
  readonly jars: readonly string[];
}

/** Error for a folder that is not a gateway folder, or a conf.yaml that cannot be used (exit 2). */
export class GatewayFolderError extends UserError {}

/**
 * Checks that `dir` is a Client Portal Gateway folder, or throws a GatewayFolderError that says
 * what is missing and what was expected.
 */
export function checkGatewayFolder(dir: string): GatewayFolder {
  const abs = path.resolve(dir);
  let isDir = false;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {
    throw new GatewayFolderError(`${abs} does not exist: give the gateway's folder (with ${GATEWAY_FOLDER_EXPECTED}).`);
  }
  if (!isDir)
    throw new GatewayFolderError(
      `${abs} is a file, not a folder: give the gateway's folder (with ${GATEWAY_FOLDER_EXPECTED}).`,
    );
  const launcher = ['bin/run.sh', 'bin/run.bat'].map((p) => path.join(abs, p)).find((p) => existsSync(p));
  const conf = path.join(abs, 'root', 'conf.yaml');
  let jars: string[] = [];
  try {
    jars = readdirSync(path.join(abs, 'dist'))
      .filter((f) => f.endsWith('.jar'))
      .map((f) => path.join(abs, 'dist', f));
  } catch {
    jars = [];
  }
  const missing = [
    launcher ? undefined : 'bin/run.sh or bin/run.bat',
    existsSync(conf) ? undefined : 'root/conf.yaml',
    jars.length > 0 ? undefined : 'dist/*.jar',
  ].filter((m) => m !== undefined);
  if (missing.length > 0 || launcher === undefined) {
    throw new GatewayFolderError(
      `${abs} is not a Client Portal Gateway folder: it has ` +
        `no ${missing.join(', no ')} (expected ${GATEWAY_FOLDER_EXPECTED}).`,
    );
  }
  return { dir: abs, conf, root: path.join(abs, 'root'), launcher, jars };
}
