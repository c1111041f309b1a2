/**
 * TLS for a gateway whose certificate is self-signed: read the certificate it presents, and build
 * connection options that accept exactly one pinned certificate. Verification stays on for every
 * request; nothing here changes a global setting.
 */
import type http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { UserError } from './errors.ts';
import { quoteInput } from './redact.ts';

/** A certificate as the trust store and the user see it. */
export interface CertificateInfo {
  /** SHA-256 fingerprint, upper-case hex pairs joined by colons, as browsers and OpenSSL show it. */
  readonly fingerprint256: string;
  /** The certificate in PEM (public, not a secret). */
  readonly pem: string;
  readonly subject: string;
  readonly validTo: string;
}

/** True for `localhost`, 127.0.0.0/8 and ::1: the only hosts trusted on first use. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '0:0:0:0:0:0:0:1';
}

/**
 * A fingerprint as typed by a person (any case, with or without colons, `sha256/` or `SHA256:`
 * prefixes) in the canonical form, or a UserError that says what is wrong.
 */
export function normalizeFingerprint(input: string): string {
  const hex = input
    .trim()
    .replace(/^sha-?256[:/ ]?/i, '')
    .replace(/[:\s]/g, '')
    .toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) {
    throw new UserError(
      `${quoteInput(input)} is not a SHA-256 fingerprint: expected 64 hexadecimal digits (colons allowed), as ` +
        `\`ibkr-keeper trust\` prints it.`,
    );
  }
  return hex.match(/../g)!.join(':');
}

/** The facts of a PEM certificate. */
export function describeCertificate(pem: string): CertificateInfo {
  const cert = new X509Certificate(pem);
  return { fingerprint256: cert.fingerprint256, pem: cert.toString(), subject: cert.subject, validTo: cert.validTo };
}

/**
 * The one TLS handshake in the project that does not judge the certificate itself: it resolves
 * with the connected socket and the certificate presented, and nothing has been written on the
 * socket yet. Its callers judge: `probeCertificate` only reads the certificate and closes;
 * `connectPinned` hands the socket on only when the fingerprint equals the pin. IBKR's gateway
 * ships one certificate, expired and naming no host (docs/gateway.md), so the pin is the rule
 * here, not OpenSSL's checks of dates, names and chain.
 */
function handshake(options: {
  host: string;
  port: number;
  timeoutMs: number;
}): Promise<{ socket: tls.TLSSocket; certificate: X509Certificate }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: options.host,
      port: options.port,
      servername: isIP(options.host) === 0 ? options.host : undefined,
      rejectUnauthorized: false,
      timeout: options.timeoutMs,
    });
    const fail = (error: Error): void => {
      socket.destroy();
      reject(error);
    };
    socket.once('secureConnect', () => {
      socket.setTimeout(0);
      socket.removeListener('error', fail);
      const certificate = socket.getPeerX509Certificate();
      if (certificate === undefined) fail(new Error('the server presented no certificate'));
      else resolve({ socket, certificate });
    });
    socket.once('timeout', () => fail(Object.assign(new Error('TLS handshake timed out'), { code: 'ETIMEDOUT' })));
    socket.once('error', fail);
  });
}

/**
 * Reads the certificate a TLS server presents, for trust on first use and to name the new
 * fingerprint when a pinned one changed. No HTTP byte is sent and the socket is closed at once.
 */
export async function probeCertificate(host: string, port: number, timeoutMs: number): Promise<CertificateInfo> {
  const { socket, certificate } = await handshake({ host, port, timeoutMs });
  // A reset while closing is of no interest, and must not become an uncaught 'error'.
  socket.on('error', () => undefined);
  socket.end();
  return describeCertificate(certificate.toString());
}

/** Error code set on a connection refused because the server's certificate is not the pinned one. */
export const PIN_MISMATCH = 'ERR_KEEPER_CERTIFICATE_PIN_MISMATCH';

/** The error of a refused pin; `presented` is the fingerprint the server showed. */
export class PinMismatchError extends Error {
  readonly code = PIN_MISMATCH;
  readonly presented: string;

  constructor(presented: string, pinned: string) {
    super(`certificate ${presented} is not the pinned ${pinned}`);
    this.presented = presented;
  }
}

/**
 * A TLS connection to a server whose certificate is pinned: accepted when, and only when, the
 * SHA-256 fingerprint of the certificate presented equals the pin, whatever its dates, names or
 * chain (as SSH trusts a host key). The handshake itself proves that the server holds that
 * certificate's private key. On a mismatch the socket is destroyed before anything is written.
 */
export async function connectPinned(options: {
  host: string;
  port: number;
  timeoutMs: number;
  fingerprint256: string;
}): Promise<tls.TLSSocket> {
  const { socket, certificate } = await handshake(options);
  if (certificate.fingerprint256 === options.fingerprint256) return socket;
  socket.destroy();
  throw new PinMismatchError(certificate.fingerprint256, options.fingerprint256);
}

/**
 * An `https.Agent` whose every connection is `connectPinned`: a request gets its socket only
 * after the fingerprint matched, so nothing is ever sent to another server.
 */
export class PinnedAgent extends https.Agent {
  readonly fingerprint256: string;
  readonly #timeoutMs: number;

  constructor(fingerprint256: string, options: https.AgentOptions & { timeoutMs: number }) {
    super(options);
    this.fingerprint256 = fingerprint256;
    this.#timeoutMs = options.timeoutMs;
  }

  /** Node's Agent waits for the callback when this returns nothing. */
  override createConnection(
    options: http.ClientRequestArgs,
    callback?: (error: Error | null, socket: Duplex) => void,
  ): undefined {
    const done = callback ?? (() => undefined);
    const target = {
      host: options.host ?? 'localhost',
      port: Number(options.port ?? 443),
      timeoutMs: this.#timeoutMs,
      fingerprint256: this.fingerprint256,
    };
    connectPinned(target).then(
      (socket) => done(null, socket),
      (error: Error) => done(error, undefined as unknown as Duplex),
    );
    return undefined;
  }
}

/** OpenSSL and Node error codes that mean "the certificate was not accepted". */
const CERTIFICATE_ERRORS = new Set([
  PIN_MISMATCH,
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** True when an error (or its cause) is a refused certificate rather than a network failure. */
export function isCertificateError(error: unknown): boolean {
  for (let e: unknown = error; e !== null && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CERTIFICATE_ERRORS.has(code)) return true;
  }
  return false;
}

/**
 * SHA-256 of the certificate IBKR ships in every download of the gateway (`root/vertx.jks`,
 * docs/gateway.md, "TLS"): its private key is public, so it proves nothing about who answers.
 */
export const IBKR_STOCK_CERTIFICATE =
  '13:DA:F8:9A:07:12:B9:62:C3:EC:AA:5E:DE:34:41:00:AE:E0:D3:B5:DE:C5:A7:9A:BD:76:02:A8:12:ED:A3:BE';

/**
 * What to tell a user whose gateway presents IBKR's stock certificate; undefined for any other.
 * `gatewayDir`: the gateway's folder when known (`--gateway-dir`, the setting), named in the command.
 */
export function publiclyKnownNotice(
  fingerprint256: string | undefined,
  gatewayDir?: string | null,
): string | undefined {
  if (fingerprint256 !== IBKR_STOCK_CERTIFICATE) return undefined;
  const dir = gatewayDir ? shellWord(gatewayDir) : 'GATEWAY_FOLDER';
  return (
    'This is the certificate IBKR ships with every copy of the gateway: its private key is in every download, ' +
    'so it proves nothing against another program on this computer. ' +
    `Give the gateway a certificate of its own: ibkr-keeper gateway certificate --dir ${dir}.`
  );
}

/** A folder as a shell takes it: as it is when plain, else in single quotes. */
function shellWord(text: string): string {
  return /^[\w@%+=:,./~-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
