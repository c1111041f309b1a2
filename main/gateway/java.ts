/**
 * Finding the Java that runs the gateway, and its `keytool`: `$JAVA_HOME/bin/java` first, then
 * `java` on the PATH (which is what the gateway's bin/run.sh runs). IBKR's gateway needs Java
 * 8u192 or later (docs/gateway.md).
 */
import { execFile } from 'node:child_process';
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A Java version as `java -version` prints it, with the parts that matter. */
export interface JavaVersion {
  /** As printed: `17.0.15`, `1.8.0_192`. */
  readonly text: string;
  /** 8 for `1.8.0_192`, 17 for `17.0.15`. */
  readonly major: number;
  /** The update: 192 for `1.8.0_192`, 15 for `17.0.15`. */
  readonly update: number;
}

/** The oldest Java the gateway runs on. */
export const MINIMUM_JAVA = '8u192';

/** Reads the version out of `java -version`'s output (it prints to stderr), or undefined. */
export function parseJavaVersion(output: string): JavaVersion | undefined {
  const quoted = /version "([^"]+)"/.exec(output)?.[1];
  if (quoted === undefined) return undefined;
  const legacy = /^1\.(\d+)\.\d+(?:_(\d+))?/.exec(quoted);
  if (legacy) return { text: quoted, major: Number(legacy[1]), update: Number(legacy[2] ?? 0) };
  const modern = /^(\d+)(?:\.\d+)?(?:\.(\d+))?/.exec(quoted);
  if (modern) return { text: quoted, major: Number(modern[1]), update: Number(modern[2] ?? 0) };
  return undefined;
}

/** True for Java 8u192 or later. */
export function javaVersionSupported(v: Pick<JavaVersion, 'major' | 'update'>): boolean {
  return v.major > 8 || (v.major === 8 && v.update >= 192);
}

/** A Java found on this computer. */
export interface Java {
  /** The `java` program. */
  readonly java: string;
  /** Where it was found. */
  readonly source: 'JAVA_HOME' | 'PATH';
  readonly version: JavaVersion | undefined;
  /** True when the version is known and 8u192 or later. */
  readonly supported: boolean;
  /** `keytool` beside it, when there is one. */
  readonly keytool: string | undefined;
}

/** Java could not be found or run: the message says where it looked and what to do. */
export class JavaNotFoundError extends Error {
  override readonly name = 'JavaNotFoundError';
}

const exe = (name: string, platform: NodeJS.Platform): string => (platform === 'win32' ? `${name}.exe` : name);

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** `name` in one of the PATH's folders, as a shell would find it. */
export function onPath(
  name: string,
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  const dirs = (env['PATH'] ?? env['Path'] ?? '').split(path.delimiter).filter((d) => d !== '');
  for (const dir of dirs) {
    const candidate = path.join(dir, exe(name, platform));
    if (isFile(candidate)) return candidate;
  }
  return undefined;
}

/** `keytool` in the same folder as `java`, or beside the real file a link points to. */
export function keytoolBeside(java: string, platform: NodeJS.Platform = process.platform): string | undefined {
  const candidates = [path.join(path.dirname(java), exe('keytool', platform))];
  try {
    candidates.push(path.join(path.dirname(realpathSync(java)), exe('keytool', platform)));
  } catch {
    // a broken link: no keytool beside it either
  }
  return candidates.find(isFile);
}

/**
 * Finds Java as the gateway would run it and asks its version. Throws a JavaNotFoundError that
 * says where it looked when there is none.
 */
export async function findJava(
  options: { env?: NodeJS.ProcessEnv; platform?: NodeJS.Platform; timeoutMs?: number } = {},
): Promise<Java> {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const home = env['JAVA_HOME'];
  const fromHome = home ? path.join(home, 'bin', exe('java', platform)) : undefined;
  let java: string | undefined;
  let source: Java['source'] = 'PATH';
  if (fromHome !== undefined && isFile(fromHome)) {
    java = fromHome;
    source = 'JAVA_HOME';
  } else {
    java = onPath('java', env, platform);
  }
  if (java === undefined) {
    const homeNote = home
      ? `JAVA_HOME (${home}) has no bin/${exe('java', platform)} and `
      : 'JAVA_HOME is not set and ';
    throw new JavaNotFoundError(
      `No Java found: ${homeNote}no java is on the PATH. Install ` +
        `Java ${MINIMUM_JAVA} or later (e.g. Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME to it.`,
    );
  }
  let output = '';
  try {
    const result = await run(java, ['-version'], { env, timeout: options.timeoutMs ?? 20_000, windowsHide: true });
    output = `${result.stderr}${result.stdout}`;
  } catch (error) {
    const e = error as { stderr?: string; code?: string | number; message: string };
    throw new JavaNotFoundError(
      `${java} (from ${source}) did not run ` +
        `(${e.code ?? e.message}): install Java ${MINIMUM_JAVA} or later, or set JAVA_HOME to a working one.`,
    );
  }
  const version = parseJavaVersion(output);
  return {
    java,
    source,
    version,
    supported: version !== undefined && javaVersionSupported(version),
    keytool: keytoolBeside(java, platform),
  };
}
