/**
 * The folder where a person unzipped IBKR's Client Portal Gateway: is it one, what its
 * `root/conf.yaml` says (read as the gateway reads it: YAML 1.1, the keys of its Config class,
 * its defaults), and the gateway's URL. No Electron, no network: the CLI's `doctor` and
 * `gateway certificate`, the Access Denied explanation and the supervisor to come build on it.
 * docs/gateway.md ("The gateway's folder and conf.yaml") holds the facts used here.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { isMap, parseDocument, type Document } from 'yaml';
import * as z from '../session/zod.ts';
import { checkGatewayFolder, GatewayFolderError, type GatewayFolder } from './folder.ts';

export { checkGatewayFolder, GATEWAY_FOLDER_EXPECTED, GatewayFolderError, type GatewayFolder } from './folder.ts';

/** The gateway's own defaults (its Config class), for keys conf.yaml leaves out. */
export const CONF_DEFAULTS = { listenPort: 5000, listenSsl: true, sslCert: 'vertx.jks', sslPwd: 'mywebapi' } as const;

/** SHA-256 of the certificate every download of the gateway ships (one source: main/session/tls.ts). */
export { IBKR_STOCK_CERTIFICATE as STOCK_CERTIFICATE_FINGERPRINT } from '../session/tls.ts';

/**
 * A string property of the gateway's Config: YAML reads `sslPwd: 123456` as a number, the
 * gateway (SnakeYAML into a String field) as the text; both are kept as text here.
 */
const text = z.pipe(
  z.union([z.string(), z.number(), z.boolean()]),
  z.transform((v) => String(v)),
);
const int = (what: string, min: number, max: number) =>
  z
    .number({ message: `must be ${what}` })
    .check(z.int(`must be ${what}`), z.minimum(min, `must be ${what}`), z.maximum(max, `must be ${what}`));
const bool = z.boolean({ message: 'must be true or false' });
const patterns = z.nullable(
  z.optional(
    z.array(z.string({ message: 'must be a list of addresses or patterns, each a string' }), {
      message: 'must be a list (lines starting with "- ")',
    }),
  ),
);

/**
 * `root/conf.yaml` as the gateway's Config class reads it: exactly these keys (the gateway refuses
 * to start on any other: "Unable to find property"), of these types.
 */
export const confSchema = z.strictObject({
  ip2loc: z.optional(text),
  proxyRemoteSsl: z.optional(bool),
  proxyRemoteHost: z.optional(text),
  listenPort: z.optional(int('a port number from 1 to 65535', 1, 65_535)),
  listenSsl: z.optional(bool),
  ccp: z.optional(bool),
  svcEnvironment: z.optional(text),
  authDelay: z.optional(int('a whole number of milliseconds', 0, 2 ** 31 - 1)),
  portalBaseURL: z.optional(text),
  serverOptions: z.optional(z.record(z.string(), int('a whole number', 0, 2 ** 31 - 1))),
  cors: z.optional(z.record(z.string(), z.unknown())),
  webApps: z.optional(z.array(z.record(z.string(), z.unknown()))),
  ips: z.optional(
    z.object(
      { allow: patterns, deny: patterns },
      // `ips:` with nothing under it: the gateway then answers no request at all (docs/gateway.md).
      { message: 'must hold "allow:" and "deny:" lists (an empty "ips:" makes the gateway answer nothing)' },
    ),
  ),
  sslCert: z.optional(text),
  sslPwd: z.optional(text),
  ssoPing: z.optional(int('a whole number of minutes', 0, 2 ** 31 - 1)),
  tst: z.optional(bool),
  twsBaseURL: z.optional(text),
});
export type ConfFile = z.infer<typeof confSchema>;

/** The allow list as the gateway holds it: a missing list is `null` (and then every address is admitted). */
export interface IpLists {
  readonly allow: readonly string[] | null;
  readonly deny: readonly string[] | null;
}

/** The settings the keeper uses, with the gateway's defaults where conf.yaml says nothing. */
export interface GatewayConfig {
  readonly listenPort: number;
  readonly listenSsl: boolean;
  /** Keystore path as written (absolute, relative to the folder, or a file in root/). */
  readonly sslCert: string;
  readonly sslPwd: string;
  /** True when conf.yaml names no keystore of its own (the stock `vertx.jks` then). */
  readonly sslCertDefault: boolean;
  readonly ips: IpLists;
  /** Everything the file holds, checked. */
  readonly file: ConfFile;
}

/** A read conf.yaml: its text, its YAML document (to edit it keeping comments), the config. */
export interface GatewayConf {
  readonly path: string;
  readonly text: string;
  readonly document: Document;
  readonly config: GatewayConfig;
}

/**
 * Reads and checks `conf` (a gateway's root/conf.yaml) as the gateway would; throws a
 * GatewayFolderError naming the file, the key and what it must be.
 */
export function readGatewayConf(conf: string): GatewayConf {
  let source: string;
  try {
    source = readFileSync(conf, 'utf8');
  } catch (error) {
    throw new GatewayFolderError(
      `Could not read ${conf} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): check ` +
        `that it exists and that you may read it.`,
    );
  }
  return parseGatewayConf(source, conf);
}

/** As `readGatewayConf`, for a text already read; `where` names it in messages. */
export function parseGatewayConf(source: string, where: string): GatewayConf {
  // SnakeYAML, which the gateway reads it with, speaks YAML 1.1 (`yes` is true, `0123` octal).
  const document = parseDocument(source, { version: '1.1' });
  const yamlError = document.errors[0];
  if (yamlError) {
    const at = yamlError.linePos?.[0];
    throw new GatewayFolderError(
      `${where} is not valid YAML${
        at ? ` (line ${at.line}, column ${at.col})` : ''
      }: ${yamlError.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}. Fix it, or restore it ` +
        `from the gateway's download.`,
    );
  }
  const raw: unknown = document.toJS() ?? {};
  if (!isMap(document.contents) && document.contents !== null) {
    throw new GatewayFolderError(`${where} does not hold "key: value" lines: restore it from the gateway's download.`);
  }
  const parsed = confSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((k) => `"${k}"`).join(', ');
      throw new GatewayFolderError(
        `${where} has the key ${keys}, which the gateway does not know (it refuses to start): remove it or ` +
          `check its spelling.`,
      );
    }
    const key = issue.path.join('.');
    const found = valueAt(raw, issue.path);
    throw new GatewayFolderError(
      `${where}: "${key}" ${issue.message}${found === undefined ? '' : ` (found ${JSON.stringify(found)})`}.`,
    );
  }
  const file = parsed.data;
  const config: GatewayConfig = {
    listenPort: file.listenPort ?? CONF_DEFAULTS.listenPort,
    listenSsl: file.listenSsl ?? CONF_DEFAULTS.listenSsl,
    sslCert: file.sslCert ?? CONF_DEFAULTS.sslCert,
    sslPwd: file.sslPwd ?? CONF_DEFAULTS.sslPwd,
    sslCertDefault: file.sslCert === undefined,
    ips: { allow: file.ips?.allow ?? null, deny: file.ips?.deny ?? null },
    file,
  };
  return { path: where, text: source, document, config };
}

function valueAt(value: unknown, keys: readonly PropertyKey[]): unknown {
  let v = value;
  for (const key of keys)
    v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

/** The gateway's URL as a person types it: `https://localhost:<listenPort>`. */
export function gatewayUrl(config: Pick<GatewayConfig, 'listenPort'>): string {
  return `https://localhost:${config.listenPort}`;
}

/**
 * Where the gateway finds its keystore: an absolute path as it is; a relative one in the folder
 * (the gateway runs from it), else in root/ (on its class path, where the stock vertx.jks is).
 * Undefined when neither exists.
 */
export function keystoreFile(
  folder: Pick<GatewayFolder, 'dir' | 'root'>,
  config: Pick<GatewayConfig, 'sslCert'>,
): string | undefined {
  if (path.isAbsolute(config.sslCert)) return existsSync(config.sslCert) ? config.sslCert : undefined;
  return [path.join(folder.dir, config.sslCert), path.join(folder.root, config.sslCert)].find(
    (p) => existsSync(p) && statSync(p).isFile(),
  );
}

/** The folder checked and its conf.yaml read, in one step (both errors are GatewayFolderErrors). */
export function openGatewayFolder(dir: string): { folder: GatewayFolder; conf: GatewayConf } {
  const folder = checkGatewayFolder(dir);
  return { folder, conf: readGatewayConf(folder.conf) };
}
