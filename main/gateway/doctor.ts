/**
 * `ibkr-keeper doctor`: a checklist a person can act on, one line per check, from Java to the
 * session. Checks of the folder (Java, conf.yaml, keystore, allow list) need the gateway's folder;
 * the others talk to the gateway: a TCP connection, a TLS handshake (nothing sent), then one
 * status check through the keeper's own client (pinned, paced, bounded by its timeout).
 */
import { lookup } from 'node:dns/promises';
import { isIP, connect } from 'node:net';
import { validateOrRecall } from '../session/check.ts';
import { classify, type Classification } from '../session/classify.ts';
import type { GatewayAddress, GatewayClient } from '../session/gateway-client.ts';
import type { Observation } from '../session/observation.ts';
import { STATE_INFO } from '../session/states.ts';
import { probeCertificate, type CertificateInfo } from '../session/tls.ts';
import type { Pin } from '../session/trust-store.ts';
import { accessDeniedAdvice, addressSeenByGateway, adviceWithoutFolder, lastForbiddenInLog } from './access-denied.ts';
import { decide, patternProblems } from './allow-list.ts';
import {
  checkGatewayFolder,
  gatewayUrl,
  keystoreFile,
  readGatewayConf,
  STOCK_CERTIFICATE_FINGERPRINT,
  type GatewayConf,
  type GatewayFolder,
} from './conf.ts';
import { findJava, MINIMUM_JAVA, type Java } from './java.ts';
import { readKeystoreCertificate } from './keystore.ts';

export type CheckStatus = 'pass' | 'fail' | 'skip';

/** One line of the checklist. */
export interface DoctorCheck {
  readonly id:
    | 'java'
    | 'folder'
    | 'conf'
    | 'port'
    | 'ipv4'
    | 'certificate'
    | 'pin'
    | 'allowList'
    | 'answers'
    | 'session';
  readonly title: string;
  readonly status: CheckStatus;
  /** What was found. */
  readonly detail: string;
  /** What to do, when something is to be done. */
  readonly fix?: string;
}

export interface DoctorReport {
  readonly gateway: string;
  readonly gatewayDir: string | undefined;
  readonly checks: readonly DoctorCheck[];
  /** True when no check failed. */
  readonly ok: boolean;
}

export interface DoctorOptions {
  /** The gateway's folder, when known. */
  readonly gatewayDir?: string | undefined;
  /** The client of the gateway to check (its address is the one checked). */
  readonly client: GatewayClient;
  /** The pin recorded for the gateway's origin, read before anything was sent. */
  readonly pin: Pin | undefined;
  readonly timeoutMs: number;
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Why the gateway's address is not known (its folder's conf.yaml cannot be read and no address
   * was given): then nothing is sent anywhere, and the checks that need the gateway say why.
   */
  readonly addressUnknown?: string | undefined;
}

type Connect = 'open' | 'refused' | 'timeout' | string;

/** Whether a TCP connection to host:port opens (nothing is sent). */
export function tryConnect(host: string, port: number, timeoutMs: number): Promise<Connect> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs, autoSelectFamily: false });
    const done = (result: Connect): void => {
      socket.destroy();
      resolve(result);
    };
    socket.once('connect', () => done('open'));
    socket.once('timeout', () => done('timeout'));
    socket.once('error', (e: NodeJS.ErrnoException) =>
      done(e.code === 'ECONNREFUSED' ? 'refused' : (e.code ?? e.message)),
    );
  });
}

const check = (
  id: DoctorCheck['id'],
  title: string,
  status: CheckStatus,
  detail: string,
  fix?: string,
): DoctorCheck => ({ id, title, status, detail, ...(fix ? { fix } : {}) });

/** Runs every check; never throws for what it finds. */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const { client, timeoutMs } = options;
  const address = client.address;
  const checks: DoctorCheck[] = [];
  const dirHint = options.gatewayDir ? `--dir ${options.gatewayDir}` : '--dir GATEWAY_DIR';

  // Java (JAVA_HOME, else the PATH: no folder needed), then the folder itself and its conf.yaml.
  let folder: GatewayFolder | undefined;
  let conf: GatewayConf | undefined;
  const javaFound = await findJava({ env: options.env ?? process.env }).then(
    (found) => ({ found, error: undefined }),
    (error: Error) => ({ found: undefined, error: error.message.replace(/ Install .*$/, '') }),
  );
  const java: Java | undefined = javaFound.found;
  const javaToInstall = `Java ${MINIMUM_JAVA} or later (e.g. Debian: apt-get install openjdk-17-jre-headless)`;
  /** The Java line; `neededHere` false: the gateway runs elsewhere, so a missing Java is no failure. */
  const javaCheck = (neededHere: boolean): DoctorCheck => {
    if (java === undefined) {
      return neededHere
        ? check(
            'java',
            'Java',
            'fail',
            javaFound.error ?? 'No Java found.',
            `Install ${javaToInstall}, or set JAVA_HOME.`,
          )
        : check(
            'java',
            'Java',
            'skip',
            `${javaFound.error ?? 'No Java found.'} None is needed here while the gateway runs elsewhere; ` +
              `to run it on this computer, install ${javaToInstall}.`,
          );
    }
    const version = java.version ? `Java ${java.version.text}` : 'Java of an unknown version';
    const where = `${java.java}, from ${java.source}`;
    const keytool = java.keytool ? '' : ' It has no keytool beside it, which `ibkr-keeper gateway certificate` needs.';
    if (java.supported)
      return check(
        'java',
        'Java',
        'pass',
        `${version} (${where}): ${MINIMUM_JAVA} or later, as the gateway needs.${keytool}`,
      );
    return check(
      'java',
      'Java',
      neededHere ? 'fail' : 'skip',
      `${version} (${where}) is older than the ${MINIMUM_JAVA} the gateway needs.`,
      `Install ${javaToInstall} and put it first on the PATH, or set JAVA_HOME.`,
    );
  };
  if (options.gatewayDir === undefined) {
    const why =
      'no gateway folder given: --gateway-dir DIR (or the setting gatewayDir) adds the checks of conf.yaml, ' +
      'its keystore and its allow list';
    checks.push(check('folder', 'folder', 'skip', why), check('conf', 'conf.yaml', 'skip', why));
  } else {
    // A folder given: the gateway is to run here, so it needs Java here.
    checks.push(javaCheck(true));
    try {
      folder = checkGatewayFolder(options.gatewayDir);
      checks.push(check('folder', 'folder', 'pass', `${folder.dir} is a Client Portal Gateway folder.`));
    } catch (error) {
      checks.push(
        check(
          'folder',
          'folder',
          'fail',
          (error as Error).message,
          'Give --gateway-dir the folder where you unzipped the gateway.',
        ),
      );
      checks.push(check('conf', 'conf.yaml', 'skip', 'not read: no gateway folder.'));
    }
    if (folder) {
      try {
        conf = readGatewayConf(folder.conf);
      } catch (error) {
        checks.push(
          check(
            'conf',
            'conf.yaml',
            'fail',
            (error as Error).message,
            "Correct that line, or restore conf.yaml from the gateway's download.",
          ),
        );
      }
    }
    if (conf) {
      const c = conf.config;
      const keystore = c.sslCertDefault ? 'the stock vertx.jks' : c.sslCert;
      checks.push(
        c.listenSsl
          ? check(
              'conf',
              'conf.yaml',
              'pass',
              `${conf.path}: listenPort ${c.listenPort}, listenSsl true, keystore ${keystore}.`,
            )
          : check(
              'conf',
              'conf.yaml',
              'fail',
              `${conf.path}: listenSsl is false, so the gateway speaks plain HTTP, which the keeper does not.`,
              'Set "listenSsl: true" and restart the gateway.',
            ),
      );
    }
  }

  if (options.addressUnknown !== undefined) {
    const why = `not checked: ${options.addressUnknown}`;
    const unasked: Array<[DoctorCheck['id'], string]> = [
      ['port', 'port'],
      ['ipv4', 'IPv4'],
      ['certificate', 'certificate'],
      ['pin', 'pin'],
      ['allowList', 'allow list'],
      ['answers', 'answers'],
      ['session', 'session'],
    ];
    checks.push(...unasked.map(([id, title]) => check(id, title, 'skip', why)));
    return { gateway: address.origin, gatewayDir: folder?.dir ?? options.gatewayDir, checks, ok: false };
  }

  // The port, and IPv4.
  const target = await resolveTarget(address);
  const portFromConf = conf?.config.listenPort;
  const url = address.origin;
  let listening = false;
  if (portFromConf !== undefined && portFromConf !== address.port) {
    checks.push(
      check(
        'port',
        'port',
        'fail',
        `${url} uses port ${address.port}, but ${conf!.path} has listenPort ${portFromConf}.`,
        `Use --gateway ${gatewayUrl(conf!.config)}, or check that this is the gateway's folder.`,
      ),
    );
  } else if (target.ipv4 === undefined) {
    const other = target.all[0];
    const state = other === undefined ? 'not found' : await tryConnect(other, address.port, timeoutMs);
    checks.push(
      check(
        'port',
        'port',
        state === 'open' ? 'pass' : 'fail',
        `${address.hostname} has no IPv4 address; ${other ?? address.hostname} port ${address.port}: ${state}.`,
        state === 'open' ? undefined : 'See IPv4.',
      ),
    );
  } else {
    const state = await tryConnect(target.ipv4, address.port, timeoutMs);
    listening = state === 'open';
    const start = folder
      ? `start the gateway: cd ${folder.dir} ` +
        `&& ${folder.launcher.endsWith('.bat') ? 'bin\\run.bat root\\conf.yaml' : 'bin/run.sh root/conf.yaml'}`
      : 'start the gateway (bin/run.sh root/conf.yaml in its folder)';
    checks.push(
      listening
        ? check(
            'port',
            'port',
            'pass',
            `something listens on ${target.ipv4}:${address.port}${
              portFromConf !== undefined ? ', the listenPort of conf.yaml' : ''
            }.`,
          )
        : check(
            'port',
            'port',
            'fail',
            `nothing accepts connections on ${target.ipv4}:${address.port} (${state}).`,
            `${start[0]!.toUpperCase()}${start.slice(1)}, or give its address with --gateway.`,
          ),
    );
  }
  checks.push(await ipv4Check(address, target, timeoutMs));
  // Without a folder, Java is needed here unless a gateway already answers (or lives on another computer).
  if (options.gatewayDir === undefined) checks.unshift(javaCheck(address.loopback && !listening));

  // The certificate: presented (when the gateway runs) and in the keystore conf.yaml names.
  let presented: CertificateInfo | undefined;
  if (listening && target.ipv4 !== undefined)
    presented = await probeCertificate(target.ipv4, address.port, timeoutMs).catch(() => undefined);
  let stored: { file: string; certificate?: CertificateInfo; error?: string } | undefined;
  if (folder && conf) {
    const file = keystoreFile(folder, conf.config);
    if (file === undefined)
      stored = {
        file: conf.config.sslCert,
        error: `the keystore "${conf.config.sslCert}" (sslCert) is neither in ${folder.dir} nor in ${folder.root}`,
      };
    else if (java?.keytool) {
      stored = await readKeystoreCertificate({ keytool: java.keytool, file, password: conf.config.sslPwd }).then(
        (certificate) => ({ file, certificate }),
        (error: Error) => ({ file, error: `the keystore ${file} cannot be opened with sslPwd (${error.message})` }),
      );
    }
  }
  checks.push(certificateCheck(presented, stored, dirHint));
  checks.push(pinCheck(options.pin, presented ?? stored?.certificate, presented !== undefined, address));

  // One status check through the keeper's client (this is what `ibkr-keeper status` sends).
  let first: Observation | undefined;
  let result: Classification | undefined;
  if (listening) {
    // As `ibkr-keeper status` (main/session/check.ts), keeping the first answer to judge it.
    const authStatus = await client.authStatus();
    first = authStatus;
    const answered = authStatus.kind === 'answer' || authStatus.kind === 'gateway-error';
    result = classify(
      answered ? { authStatus, validate: await validateOrRecall(client) } : { authStatus },
      address.origin,
    );
  }
  checks.push(allowListCheck(address, conf, folder, first));
  checks.push(answersCheck(first, listening, timeoutMs));
  checks.push(sessionCheck(result, first));

  return {
    gateway: url,
    gatewayDir: folder?.dir ?? options.gatewayDir,
    checks,
    ok: checks.every((c) => c.status !== 'fail'),
  };
}

interface Target {
  /** The IPv4 address connections go to, when there is one. */
  readonly ipv4: string | undefined;
  /** Every address the host name stands for. */
  readonly all: readonly string[];
}

async function resolveTarget(address: GatewayAddress): Promise<Target> {
  const host = address.hostname;
  if (isIP(host) !== 0) return { ipv4: isIP(host) === 4 ? host : undefined, all: [host] };
  try {
    const all = (await lookup(host, { all: true })).map((a) => a.address);
    return { ipv4: all.find((a) => isIP(a) === 4), all };
  } catch {
    return { ipv4: undefined, all: [] };
  }
}

async function ipv4Check(address: GatewayAddress, target: Target, timeoutMs: number): Promise<DoctorCheck> {
  const fixed = `https://127.0.0.1:${address.port}`;
  if (isIP(address.hostname) === 6) {
    return check(
      'ipv4',
      'IPv4',
      'fail',
      `${address.origin} is IPv6, and the gateway listens on IPv4 only (it refuses [::1]).`,
      `Use --gateway ${fixed} or https://localhost:${address.port}.`,
    );
  }
  if (target.all.length === 0)
    return check(
      'ipv4',
      'IPv4',
      'fail',
      `${address.hostname} was not found.`,
      `Use --gateway ${fixed} for a gateway on this computer.`,
    );
  if (target.ipv4 === undefined) {
    return check(
      'ipv4',
      'IPv4',
      'fail',
      `${address.hostname} is only ${target.all.join(', ')} here, and the gateway listens on IPv4 only.`,
      `Use --gateway ${fixed}.`,
    );
  }
  const v6 = target.all.filter((a) => isIP(a) === 6);
  if (v6.length === 0)
    return check(
      'ipv4',
      'IPv4',
      'pass',
      `${address.hostname} is ${target.ipv4}: IPv4, which the gateway listens on (IPv4 only).`,
    );
  const v6State = await tryConnect(v6[0]!, address.port, timeoutMs);
  return check(
    'ipv4',
    'IPv4',
    'pass',
    `${address.hostname} is ${target.all.join(' and ')} here; the gateway ` +
      `listens on IPv4 only (${v6[0]}: ${v6State}). The keeper ` +
      `falls back to ${target.ipv4}; a program that tries ${v6[0]} alone fails: give it ${fixed}.`,
  );
}

function certificateCheck(
  presented: CertificateInfo | undefined,
  stored: { file: string; certificate?: CertificateInfo; error?: string } | undefined,
  dirHint: string,
): DoctorCheck {
  const fix = `ibkr-keeper gateway certificate ${dirHint}, then restart the gateway.`;
  if (stored?.error) {
    return check(
      'certificate',
      'certificate',
      'fail',
      `${stored.error}: the gateway then starts but never listens, and says nothing.`,
      `Correct sslCert (the keystore) and sslPwd (its password) in conf.yaml, or run ${fix}`,
    );
  }
  const cert = presented ?? stored?.certificate;
  if (cert === undefined)
    return check(
      'certificate',
      'certificate',
      'skip',
      'not checked: no TLS handshake with the gateway, and its keystore ' +
        "was not read (that needs --gateway-dir and Java's keytool).",
    );
  const source = presented ? 'the gateway presents' : `its keystore (${stored!.file}) holds`;
  if (cert.fingerprint256 === STOCK_CERTIFICATE_FINGERPRINT) {
    return check(
      'certificate',
      'certificate',
      'fail',
      `${source} IBKR's stock certificate (SHA-256 ${cert.fingerprint256}), which is publicly known: its ` +
        `private key is in every download of the gateway, so it ` +
        `proves nothing against another program on this computer.`,
      `Give the gateway a certificate of its own: ${fix}`,
    );
  }
  if (presented && stored?.certificate && stored.certificate.fingerprint256 !== presented.fingerprint256) {
    return check(
      'certificate',
      'certificate',
      'fail',
      `the gateway presents SHA-256 ${presented.fingerprint256}, not the certificate ` +
        `of its keystore ${stored.file} (SHA-256 ${stored.certificate.fingerprint256}): it has not been ` +
        `restarted since conf.yaml changed, or runs from another folder.`,
      'Restart the gateway.',
    );
  }
  return check(
    'certificate',
    'certificate',
    'pass',
    `${source} a certificate of its own: ${cert.subject.replace(/\n/g, ', ')}, ` +
      `SHA-256 ${cert.fingerprint256}, valid until ${cert.validTo}.`,
  );
}

function pinCheck(
  pin: Pin | undefined,
  cert: CertificateInfo | undefined,
  running: boolean,
  address: GatewayAddress,
): DoctorCheck {
  const origin = address.origin;
  if (pin === undefined) {
    if (!address.loopback)
      return check(
        'pin',
        'pin',
        'skip',
        `nothing pinned for ${origin}: a gateway on another computer needs a valid chain, ` +
          `or \`ibkr-keeper trust accept --fingerprint FP\`.`,
      );
    return check(
      'pin',
      'pin',
      'pass',
      `nothing pinned for ${origin} yet: the ` +
        `keeper trusts ${cert ? `SHA-256 ${cert.fingerprint256}` : 'the certificate it presents'} on first use.`,
    );
  }
  const by = pin.source === 'user' ? 'by you' : 'on first use';
  if (cert === undefined)
    return check(
      'pin',
      'pin',
      'pass',
      `SHA-256 ${pin.fingerprint256} is pinned for ${origin} (${by}); the certificate could not be compared with it.`,
    );
  if (cert.fingerprint256 === pin.fingerprint256)
    return check('pin', 'pin', 'pass', `the certificate is the one pinned for ${origin} (${by}, ${pin.recordedAt}).`);
  const now = running ? 'the gateway presents' : 'its keystore holds';
  return check(
    'pin',
    'pin',
    'fail',
    `${origin} has SHA-256 ${pin.fingerprint256} pinned, ` +
      `but ${now} SHA-256 ${cert.fingerprint256}: the keeper refuses it (untrusted-certificate) and sends nothing.`,
    `If you changed the certificate (ibkr-keeper gateway certificate, ` +
      `a reinstall), trust it: ibkr-keeper trust accept --gateway ${origin}${
        running ? '' : ' once the gateway runs'
      }; otherwise do not.`,
  );
}

const isAccessDenied = (o: Observation | undefined): boolean =>
  o?.kind === 'http-error' && o.status === 404 && /access denied/i.test(o.text);

function allowListCheck(
  address: GatewayAddress,
  conf: GatewayConf | undefined,
  folder: GatewayFolder | undefined,
  first: Observation | undefined,
): DoctorCheck {
  const denied = isAccessDenied(first);
  if (conf && folder) {
    const seen = addressSeenByGateway(address.hostname) ?? lastForbiddenInLog(folder.dir);
    const problems = patternProblems(conf.config.ips);
    const cannot =
      problems.length > 0
        ? ` It cannot use ${problems.map((p) => `"${p.pattern}" (${p.list}: ${p.why})`).join(', ')}.`
        : '';
    if (seen === undefined) {
      if (!denied)
        return check(
          'allowList',
          'allow list',
          'skip',
          `the address the gateway sees from here is not known.${cannot}`,
        );
      const advice = accessDeniedAdvice(folder.dir, address);
      return check('allowList', 'allow list', 'fail', advice.why, advice.fix);
    }
    const decision = decide(seen, conf.config.ips);
    const trap = problems.find((p) => p.list === 'deny' || p.pattern === '*');
    if (decision.admitted && !denied && trap === undefined) {
      const by =
        decision.why === 'allowed'
          ? `allow pattern "${decision.pattern}"`
          : `no "${decision.missing}:" list, which admits every address`;
      return check('allowList', 'allow list', 'pass', `${conf.path} admits ${seen} (${by}).${cannot}`);
    }
    if (decision.admitted && !denied && trap) {
      return check(
        'allowList',
        'allow list',
        'fail',
        `${conf.path} admits ${seen}, but "${trap.pattern}" ` +
          `(${trap.list}) is a pattern the ` +
          `gateway cannot use: ${trap.why}; in deny, the gateway's code reuses ` +
          `the pattern before it and can refuse ${seen}.`,
        `Remove "${trap.pattern}" from ips ${trap.list} and restart the gateway.`,
      );
    }
    const advice = denied || !decision.admitted ? accessDeniedAdvice(folder.dir, address) : undefined;
    if (denied && advice) return check('allowList', 'allow list', 'fail', advice.why, advice.fix);
    // Not refused now (or the gateway was not asked), but conf.yaml would refuse it at the next start.
    return check(
      'allowList',
      'allow list',
      'fail',
      `${conf.path} does not admit ${seen}${
        first === undefined ? '' : ' (the running gateway still does: it read another conf.yaml)'
      }.`,
      advice?.fix,
    );
  }
  if (denied) {
    const advice = adviceWithoutFolder(address);
    return check('allowList', 'allow list', 'fail', advice.why, advice.fix);
  }
  if (
    first !== undefined &&
    first.kind !== 'unreachable' &&
    first.kind !== 'untrusted-certificate' &&
    first.kind !== 'not-sent'
  ) {
    return check('allowList', 'allow list', 'pass', 'the gateway does not refuse this computer (no Access Denied).');
  }
  return check(
    'allowList',
    'allow list',
    'skip',
    'not checked: no gateway folder given, and the gateway gave no answer to judge by.',
  );
}

function answersCheck(first: Observation | undefined, listening: boolean, timeoutMs: number): DoctorCheck {
  if (!listening || first === undefined)
    return check('answers', 'answers', 'skip', 'not asked: nothing listens on the port.');
  switch (first.kind) {
    case 'unreachable':
      if (first.code === 'ETIMEDOUT') {
        return check(
          'answers',
          'answers',
          'fail',
          `the gateway accepted POST /v1/api/iserver/auth/status but did not answer within ${timeoutMs / 1000} ` +
            `s: it may not reach IBKR (is this computer online?).`,
          "Check this computer's internet connection and the gateway's " +
            'logs/gw.*.log; a longer --timeout shows a slow answer.',
        );
      }
      return check(
        'answers',
        'answers',
        'fail',
        `the request failed: ${first.code} (${first.message}).`,
        'Restart the gateway and look at its console and logs/gw.*.log.',
      );
    case 'untrusted-certificate':
      return check(
        'answers',
        'answers',
        'skip',
        'not asked: the certificate is not the pinned one (see pin), so the keeper sent nothing.',
      );
    case 'not-sent':
      return check(
        'answers',
        'answers',
        'skip',
        `not asked: ${
          first.reason === 'penalty'
            ? 'the gateway rate-limited this computer; the keeper waits out the 10 minutes'
            : "IBKR's rate limit"
        } (retry in ${Math.ceil(first.retryAfterMs / 1000)} s).`,
      );
    default:
      return isAccessDenied(first)
        ? check(
            'answers',
            'answers',
            'pass',
            `the gateway answered in ${first.latencyMs} ms, with 404 Access Denied (see allow list).`,
          )
        : check(
            'answers',
            'answers',
            'pass',
            `the gateway answered POST /v1/api/iserver/auth/status in ${first.latencyMs} ` +
              `ms${'status' in first ? ` (HTTP ${first.status})` : ''}.`,
          );
  }
}

function sessionCheck(result: Classification | undefined, first: Observation | undefined): DoctorCheck {
  if (result === undefined || first === undefined)
    return check('session', 'session', 'skip', 'not known: nothing listens on the port.');
  if (
    first.kind !== 'answer' &&
    first.kind !== 'gateway-error' &&
    !(first.kind === 'http-error' && !isAccessDenied(first))
  ) {
    return check('session', 'session', 'skip', `not known: the gateway gave no answer about it (${result.state}).`);
  }
  if (result.state === 'ready') return check('session', 'session', 'pass', `ready: ${result.reason}`);
  return check('session', 'session', 'fail', `${result.state}: ${result.reason}`, STATE_INFO[result.state].advice);
}
