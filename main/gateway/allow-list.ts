/**
 * IBKR's allow list (`ips` in root/conf.yaml), as the gateway applies it to each request's
 * IPv4 address, pure. Read from the gateway's code and checked against the real gateway
 * (docs/gateway.md, "The allow list (ips)"):
 *
 * - `deny` is checked first: a match there refuses, whatever `allow` says; then `allow` must match.
 * - A pattern is an exact IPv4 address (`127.0.0.1`) or `a.*`, `a.b.*`, `a.b.c.*`. Nothing else
 *   matches: no CIDR (`0.0.0.0/0`), no host names (`localhost`), no IPv6, no `*` alone.
 * - A missing `allow` or `deny` list (`null`) admits every address.
 * - Refused: 404 `Access Denied` on every path.
 */
import type { IpLists } from './conf.ts';

/** How the gateway reads one pattern. */
export type PatternKind =
  /** Four dotted parts, none `*`: compared as text with the address (`127.0.0.1`). */
  | { readonly kind: 'exact'; readonly address: string }
  /** `a.*`, `a.b.*`, `a.b.c.*`: the address starts with these parts. */
  | { readonly kind: 'prefix'; readonly parts: readonly string[] }
  /** Anything else: the gateway logs "invalidate ip address" and matches nothing by it. */
  | { readonly kind: 'invalid'; readonly why: string }
  /** `*` alone: the gateway fails on every request (HTTP 500, a regular expression error). */
  | { readonly kind: 'broken'; readonly why: string };

/** An octet the gateway's pattern accepts before a `*` (its regular expression, verbatim). */
const OCTET = /^([01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5])$/;

/** How the gateway reads `pattern` (docs/gateway.md). */
export function parsePattern(pattern: string): PatternKind {
  if (pattern === '*')
    return {
      kind: 'broken',
      why: '"*" alone makes the gateway fail every request (HTTP 500): use 127.* or an address',
    };
  if (pattern.includes(':'))
    return { kind: 'invalid', why: 'IPv6 is not supported: the gateway sees IPv4 addresses only' };
  if (pattern.includes('/'))
    return { kind: 'invalid', why: 'CIDR ranges are not supported: write a.*, a.b.* or a.b.c.*' };
  // Java's String.split drops trailing empty parts: "127.0.0.1." is four parts, as the gateway sees it.
  const parts = pattern.split('.');
  while (parts.length > 0 && parts.at(-1) === '') parts.pop();
  if (parts.length === 4 && parts[3] !== '*') {
    if (parts.every((p) => /^[0-9]+$/.test(p))) return { kind: 'exact', address: parts.join('.') };
    return {
      kind: 'invalid',
      why: /[a-z]/i.test(pattern)
        ? 'host names are not supported: write the IPv4 address'
        : 'not an IPv4 address or a.*, a.b.*, a.b.c.*',
    };
  }
  if (parts.length >= 2 && parts.length <= 4 && parts.at(-1) === '*') {
    const prefix = parts.slice(0, -1);
    if (prefix.every((p) => OCTET.test(p))) return { kind: 'prefix', parts: prefix };
  }
  return {
    kind: 'invalid',
    why: /[a-z]/i.test(pattern)
      ? 'host names are not supported: write the IPv4 address'
      : 'not an IPv4 address or a.*, a.b.*, a.b.c.*',
  };
}

/** True when `pattern` matches the IPv4 `address` as the gateway matches it. */
export function patternMatches(pattern: string, address: string): boolean {
  const p = parsePattern(pattern);
  if (p.kind === 'exact') return p.address === address;
  if (p.kind !== 'prefix') return false;
  const parts = address.split('.');
  return parts.length === 4 && p.parts.every((part, i) => part === parts[i]);
}

/** What the gateway decides for one address, and why. */
export type AllowDecision =
  | { readonly admitted: true; readonly why: 'no-lists'; readonly missing: 'allow' | 'deny' }
  | { readonly admitted: true; readonly why: 'allowed'; readonly pattern: string }
  | { readonly admitted: false; readonly why: 'denied'; readonly pattern: string }
  | { readonly admitted: false; readonly why: 'not-allowed' }
  | { readonly admitted: false; readonly why: 'broken'; readonly pattern: string };

/** The gateway's decision for an IPv4 `address` (deny first, then allow). */
export function decide(address: string, ips: IpLists): AllowDecision {
  if (ips.allow === null || ips.deny === null)
    return { admitted: true, why: 'no-lists', missing: ips.allow === null ? 'allow' : 'deny' };
  for (const list of [ips.deny, ips.allow]) {
    for (const pattern of list) {
      if (parsePattern(pattern).kind === 'broken') return { admitted: false, why: 'broken', pattern };
      if (patternMatches(pattern, address)) {
        return list === ips.deny
          ? { admitted: false, why: 'denied', pattern }
          : { admitted: true, why: 'allowed', pattern };
      }
    }
  }
  return { admitted: false, why: 'not-allowed' };
}

/** A pattern of either list that the gateway cannot use, and why. */
export interface PatternProblem {
  readonly list: 'allow' | 'deny';
  readonly pattern: string;
  readonly why: string;
}

/**
 * The patterns that do not do what they seem to. Beyond matching nothing, an invalid pattern
 * makes the gateway reuse the last valid pattern it read (its code keeps it): a host name at
 * the top of `deny` can refuse an address that `allow` admits (docs/gateway.md).
 */
export function patternProblems(ips: IpLists): PatternProblem[] {
  const problems: PatternProblem[] = [];
  for (const list of ['deny', 'allow'] as const) {
    for (const pattern of ips[list] ?? []) {
      const p = parsePattern(pattern);
      if (p.kind === 'invalid' || p.kind === 'broken') problems.push({ list, pattern, why: p.why });
    }
  }
  return problems;
}

/** The line to add under `ips: allow:` so the gateway admits `address`. */
export function allowLine(address: string): string {
  return `- ${address}`;
}

/** The rules in one sentence, for messages. */
export const ALLOW_LIST_RULES =
  'deny is checked first, then allow must match; a pattern is an exact IPv4 address or a.*, a.b.*, a.b.c.*, ' +
  'never CIDR, a host name or IPv6';
