/**
 * "Access Denied" explained. The gateway answers 404 `Access Denied` to an address its allow list
 * (`ips` in root/conf.yaml) refuses; with the gateway's folder known, this says which address,
 * why (the deny pattern that matched, or no allow pattern matching) and the line to add. It is
 * what `GatewayClientOptions.explainAccessDenied` is given by the front ends.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import path from 'node:path';
import { isLoopbackHost } from '../session/tls.ts';
import { ALLOW_LIST_RULES, allowLine, decide, patternProblems } from './allow-list.ts';
import { openGatewayFolder } from './conf.ts';

/** The part of a gateway address the explanation needs. */
export interface ExplainTarget {
  readonly hostname: string;
  readonly port: number;
}

/**
 * The IPv4 address the gateway sees this computer connect from, when it can be known here: for
 * a loopback URL 127.0.0.1 (the gateway listens on IPv4 only, so `localhost` and `::1` reach it
 * through 127.0.0.1); for one of this computer's own IPv4 addresses, that address.
 */
export function addressSeenByGateway(hostname: string): string | undefined {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (isLoopbackHost(host)) return '127.0.0.1';
  if (isIP(host) !== 4) return undefined;
  const own = Object.values(networkInterfaces()).flatMap((list) => list ?? []);
  return own.some((i) => i.family === 'IPv4' && i.address === host) ? host : undefined;
}

/** The address in the gateway's newest log line `ipv4 address X is forbidden`, if any. */
export function lastForbiddenInLog(dir: string): string | undefined {
  try {
    const logs = readdirSync(path.join(dir, 'logs'))
      .filter((f) => /^gw\.\d{4}-\d{2}-\d{2}\.log$/.test(f))
      .sort();
    const newest = logs.at(-1);
    if (newest === undefined) return undefined;
    const matches = [
      ...readFileSync(path.join(dir, 'logs', newest), 'utf8').matchAll(/ipv4 address (\S+) is forbidden/g),
    ];
    return matches.at(-1)?.[1];
  } catch {
    return undefined;
  }
}

/** Why the gateway refuses this computer, and what to change: the reason is both, in one line. */
export interface AccessDeniedAdvice {
  readonly why: string;
  readonly fix: string;
}

const line = (advice: AccessDeniedAdvice): string => `${advice.why} ${advice.fix}`;

/** How a front end lets a person name the gateway's folder (the CLI's, by default). */
export const CLI_FOLDER_HINT = "--gateway-dir DIR (the gateway's folder)";

/** The advice when the gateway's folder is not known; `hint` says how to give it. */
export function adviceWithoutFolder(target: ExplainTarget, hint = CLI_FOLDER_HINT): AccessDeniedAdvice {
  const address = addressSeenByGateway(target.hostname);
  return {
    why: `The gateway refuses ${
      address ? `${address}, this computer as the gateway sees it` : "this computer's address"
    } (Access Denied).`,
    fix:
      `Its root/conf.yaml must admit it under "ips: allow:" and not refuse it under "ips: deny:" ` +
      `(${ALLOW_LIST_RULES}); restart the gateway after a change. ` +
      `${hint} tells the exact line to add.`,
  };
}

/** The reason given when the gateway's folder is not known. */
export function accessDeniedWithoutFolder(target: ExplainTarget, hint = CLI_FOLDER_HINT): string {
  return line(adviceWithoutFolder(target, hint));
}

/**
 * Why the gateway at `target` answers 404 `Access Denied` and what to change, read from the
 * conf.yaml of the gateway folder `dir`. Never throws: a folder or file that cannot be read is
 * said in the advice.
 */
export function accessDeniedAdvice(dir: string, target: ExplainTarget): AccessDeniedAdvice {
  let opened;
  try {
    opened = openGatewayFolder(dir);
  } catch (error) {
    const general = adviceWithoutFolder(target);
    return {
      why: `${general.why} The gateway folder given could not be read: ${(error as Error).message}`,
      fix: general.fix.replace(/; restart the gateway after a change\. .*$/, '; restart the gateway after a change.'),
    };
  }
  const { folder, conf } = opened;
  const where = conf.path;
  const address = addressSeenByGateway(target.hostname) ?? lastForbiddenInLog(folder.dir);
  const otherPort =
    conf.config.listenPort !== target.port
      ? ` (This conf.yaml has listenPort ${conf.config.listenPort}, ` +
        `not ${target.port}: is it the folder of this gateway?)`
      : '';
  if (address === undefined) {
    return {
      why: "The gateway refuses this computer's address (Access Denied), which cannot be known from here.",
      fix:
        `Find "ipv4 address X is forbidden" ` +
        `in ${path.join(folder.dir, 'logs')}/gw.*.log, admit X under "ips: allow:" ` +
        `in ${where} (${ALLOW_LIST_RULES}) and restart the gateway.${otherPort}`,
    };
  }
  const ignored = patternProblems(conf.config.ips).map((p) => `"${p.pattern}" in ${p.list} (${p.why})`);
  const ignoredNote = ignored.length > 0 ? ` The gateway cannot use ${ignored.join(', ')}.` : '';
  const decision = decide(address, conf.config.ips);
  const refused = `The gateway refuses ${address} (Access Denied)`;
  switch (decision.why) {
    case 'denied':
      return {
        why:
          `${refused}: the pattern "${decision.pattern}" of its deny list matches it, and deny is checked ` +
          `before allow.`,
        fix:
          `Remove the line "- ${decision.pattern}" under "ips: deny:" ` +
          `in ${where} and restart the gateway.${otherPort}`,
      };
    case 'not-allowed':
      return {
        why: `${refused}: no pattern of its allow list matches it.${ignoredNote}`,
        fix:
          `Add the line "${allowLine(address)}" under "ips: allow:" ` +
          `in ${where} and restart the gateway.${otherPort}`,
      };
    case 'broken':
      return {
        why:
          `${refused}: "${decision.pattern}" in its ips lists is not a pattern the gateway can use (it fails ` +
          `every request).`,
        fix: `Replace it with "${allowLine(address)}" in ${where} and restart the gateway.${otherPort}`,
      };
    default: {
      const by =
        decision.why === 'allowed'
          ? `the allow pattern "${decision.pattern}"`
          : `its missing "${decision.missing}:" list, which admits every address`;
      const denyTrap = patternProblems(conf.config.ips).find((p) => p.list === 'deny');
      if (denyTrap) {
        return {
          why:
            `${refused}, although ${where} admits it ` +
            `(by ${by}): "${denyTrap.pattern}" under "ips: deny:" is not a pattern the gateway understands, and ` +
            `its code then reuses the pattern read before it, which can refuse ${address}.`,
          fix: `Remove "- ${denyTrap.pattern}" under "ips: deny:" in ${where} and restart the gateway.${otherPort}`,
        };
      }
      return {
        why: `${refused}, although ${where} admits it (by ${by}).`,
        fix:
          `Restart the gateway so that it ` +
          `reads ${where} again, or check that it runs from ${folder.dir}.${otherPort}`,
      };
    }
  }
}

/** The reason of a 404 `Access Denied` from the gateway at `target`, from the folder `dir`: why, then what to do. */
export function explainAccessDenied(dir: string, target: ExplainTarget): string {
  return line(accessDeniedAdvice(dir, target));
}

/**
 * A reason maker for `GatewayClientOptions.explainAccessDenied`: from the folder when known, else
 * the rules and `hint` (how to give the folder in this front end).
 */
export function accessDeniedExplainer(
  gatewayDir: string | undefined,
  hint = CLI_FOLDER_HINT,
): (target: ExplainTarget) => string {
  return (target) => (gatewayDir ? explainAccessDenied(gatewayDir, target) : accessDeniedWithoutFolder(target, hint));
}
