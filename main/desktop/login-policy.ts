/**
 * What the app's login window may do, decided without Electron (main/desktop/login-window.ts
 * applies it): the window shows the gateway's own login page, at exactly one origin, trusting
 * exactly the certificate pinned for that origin, and nothing else. IBKR's gateway presents one
 * certificate, expired and naming no host (docs/gateway.md, "TLS"), so the pin is the rule here, as
 * it is for the keeper's own requests (main/session/tls.ts): a browser's checks of dates, names
 * and chain would refuse it, and turning them off would trust everything. See docs/desktop.md,
 * "The login window".
 */
import { X509Certificate } from 'node:crypto';
import { UserError } from '../session/errors.ts';
import type { SessionState } from '../session/states.ts';

/** What the window needs to open: the gateway's origin, its pin, and the session's state now. */
export interface LoginTarget {
  /** `https://host:port`, the gateway's origin as the keeper uses it. */
  readonly origin: string;
  /** The SHA-256 fingerprint pinned for that origin (`AB:CD:...`), undefined when none is. */
  readonly fingerprint256: string | undefined;
  /** The session's state when the window opens (it closes when the state becomes `ready`). */
  readonly state: SessionState;
}

/** Allowed, or refused with the reason in words a user understands (it goes to the log). */
export type Decision = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** A page load (the window's own page, a link, a form), a redirect of one, or anything a page loads. */
export type RequestKind = 'navigation' | 'redirect' | 'resource';

/** A certificate as Electron's verify proc gives it: PEM `data`, `fingerprint` as `sha256/<base64>`. */
export interface PresentedCertificate {
  readonly data?: string;
  readonly fingerprint?: string;
}

const OK: Decision = { ok: true };

/** Electron's `sha256/<base64>` (Chromium's HashValue) as `AB:CD:...`; undefined for anything else. */
export function fromElectronFingerprint(value: string): string | undefined {
  const match = /^sha256\/([A-Za-z0-9+/]{43}=)$/.exec(value);
  if (match === null) return undefined;
  const hex = Buffer.from(match[1]!, 'base64').toString('hex').toUpperCase();
  return hex.match(/../g)!.join(':');
}

/** The SHA-256 fingerprint (`AB:CD:...`) of a PEM certificate; undefined when it cannot be read. */
export function fingerprintOfPem(pem: string): string | undefined {
  try {
    return new X509Certificate(pem).fingerprint256;
  } catch {
    return undefined;
  }
}

/** A URL as the log shows it: scheme, host and path, never a query (it may carry a token). */
export function shownUrl(url: string): string {
  let text: string;
  try {
    const u = new URL(url);
    text = u.protocol === 'data:' || u.protocol === 'blob:' ? `${u.protocol} URL` : `${u.origin}${u.pathname}`;
  } catch {
    text = 'an address that is not a URL';
  }
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}

const bare = (host: string): string => host.replace(/^\[|\]$/g, '').toLowerCase();

export class LoginPolicy {
  /** `https://host:port`, as `new URL` writes it (no default port, lower case). */
  readonly origin: string;
  /** The page the window opens: the gateway redirects `/` to its login page. */
  readonly loginUrl: string;
  readonly fingerprint256: string | undefined;
  readonly #hostname: string;
  readonly #port: string;

  constructor(origin: string, fingerprint256: string | undefined) {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new UserError(`The gateway address "${origin.slice(0, 100)}" is not a URL: set it in Settings.`);
    }
    if (url.protocol !== 'https:')
      throw new UserError(`The login window opens only an https gateway, not ${shownUrl(origin)}: set it in Settings.`);
    this.origin = url.origin;
    this.loginUrl = `${url.origin}/`;
    this.fingerprint256 = fingerprint256;
    this.#hostname = bare(url.hostname);
    this.#port = url.port === '' ? '443' : url.port;
  }

  /** Why the window cannot open at all (no pinned certificate), or undefined. */
  get unusable(): string | undefined {
    if (this.fingerprint256 !== undefined) return undefined;
    return (
      `No certificate is trusted for ${this.origin} yet, so the login window trusts none. ` +
      'Let the keeper reach the gateway once (it trusts a gateway on this computer on first use, and shows it in ' +
      'Settings), or trust one with "ibkr-keeper trust accept", then log in.'
    );
  }

  /**
   * Whether a certificate presented for `host` (and `port`, when the caller knows it) is accepted:
   * only for the gateway's host and port, and only when its SHA-256 fingerprint equals the pin.
   * Electron's verify proc names the host but not the port; there the request rule (`request`),
   * which cancels every other port before a connection is opened, keeps the port.
   */
  certificate(host: { hostname: string; port?: number | string }, presented: PresentedCertificate): Decision {
    const hostname = bare(host.hostname);
    const where = host.port === undefined ? hostname : `${hostname}:${host.port}`;
    if (hostname !== this.#hostname || (host.port !== undefined && String(host.port) !== this.#port))
      return { ok: false, reason: `Refused the certificate of ${where}: the login window trusts only ${this.origin}.` };
    const pinned = this.fingerprint256;
    if (pinned === undefined) return { ok: false, reason: this.unusable! };
    const fromData = presented.data === undefined ? undefined : fingerprintOfPem(presented.data);
    const fromHash = presented.fingerprint === undefined ? undefined : fromElectronFingerprint(presented.fingerprint);
    const seen = fromData ?? fromHash;
    if (seen === undefined || (fromData !== undefined && fromHash !== undefined && fromData !== fromHash))
      return { ok: false, reason: `Refused a certificate of ${this.origin} that could not be read.` };
    if (seen === pinned) return OK;
    return {
      ok: false,
      reason:
        `Refused the certificate of ${this.origin}: it is SHA-256 ${seen}, not the trusted ${pinned}. ` +
        'If the gateway was reinstalled or given a new certificate, trust the new one first (the Status view shows ' +
        'both), then log in.',
    };
  }

  /**
   * Whether the window may load `url`: pages and redirects only at the gateway's https origin (a
   * redirect to api.ibkr.com, another host or port, or http: is refused); what a page loads, also
   * only from there, or `data:`/`blob:` (which reach no network).
   */
  request(url: string, kind: RequestKind): Decision {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return { ok: false, reason: 'Refused an address that is not a URL.' };
    }
    if (u.protocol === 'https:' && u.username === '' && u.password === '' && this.#same(u)) return OK;
    if (kind === 'resource' && (u.protocol === 'data:' || u.protocol === 'blob:')) return OK;
    const what = kind === 'navigation' ? 'a page' : kind === 'redirect' ? 'a redirect' : 'a request';
    return {
      ok: false,
      reason: `Refused ${what} to ${shownUrl(url)}: the login window stays on ${this.origin}.`,
    };
  }

  /** New windows: never inside the app, and never handed to the system browser by the page. */
  windowOpen(url: string): Decision {
    return {
      ok: false,
      reason:
        `Refused a new window for ${shownUrl(url)}: the login window opens no other window. ` +
        'Open that address in your browser yourself if you need it.',
    };
  }

  #same(u: URL): boolean {
    return bare(u.hostname) === this.#hostname && (u.port === '' ? '443' : u.port) === this.#port;
  }
}
