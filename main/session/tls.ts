/**
 * TLS for a gateway whose certificate is self-signed: read the certificate it presents, and build
 * connection options that accept exactly one pinned certificate. Verification stays on for every
 * request; nothing here changes a global setting.
 */
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { UserError } from './errors.ts';

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
      `"${input}" is not a SHA-256 fingerprint: expected 64 hexadecimal digits (colons allowed), as \`ibkr-keeper trust\` prints it.`,
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
 * Reads the certificate a TLS server presents, for trust on first use and to name the new
 * fingerprint when a pinned one changed. The handshake is not verified because its only product is
 * the certificate, shown to the user and compared with the pin; no HTTP byte is sent over it and
 * the socket is closed at once.
 */
export function probeCertificate(host: string, port: number, timeoutMs: number): Promise<CertificateInfo> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host,
      port,
      servername: isIP(host) === 0 ? host : undefined,
      rejectUnauthorized: false,
      timeout: timeoutMs,
    });
    const fail = (error: Error): void => {
      socket.destroy();
      reject(error);
    };
    socket.once('secureConnect', () => {
      const cert = socket.getPeerX509Certificate();
      socket.end();
      if (cert === undefined) fail(new Error('the server presented no certificate'));
      else resolve(describeCertificate(cert.toString()));
    });
    socket.once('timeout', () => fail(Object.assign(new Error('TLS handshake timed out'), { code: 'ETIMEDOUT' })));
    socket.once('error', fail);
  });
}

/** Error code set on a connection refused because the server's certificate is not the pinned one. */
export const PIN_MISMATCH = 'ERR_KEEPER_CERTIFICATE_PIN_MISMATCH';

/**
 * Options for `tls.connect` (and an `https.Agent`) that accept only the certificate with this
 * fingerprint: OpenSSL verifies the chain against the pinned certificate as its only authority,
 * then the fingerprint is compared in place of the host-name check (the pin is the identity).
 */
export function pinnedConnectOptions(pin: { fingerprint256: string; pem: string }): tls.ConnectionOptions {
  return {
    ca: [pin.pem],
    checkServerIdentity: (_host, cert) =>
      cert.fingerprint256 === pin.fingerprint256
        ? undefined
        : Object.assign(new Error(`certificate ${cert.fingerprint256} is not the pinned ${pin.fingerprint256}`), {
            code: PIN_MISMATCH,
          }),
  };
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
