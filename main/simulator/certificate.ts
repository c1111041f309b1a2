/**
 * The simulator's certificate, made fresh at every start (and on rotation). By default it has the
 * shape of the one IBKR ships in every download of the gateway (docs/gateway.md, "The simulator
 * against the real gateway"): self-signed RSA-2048, the same subject and issuer, only a subject
 * key identifier (no subjectAltName), valid from 2019-02-10 to 2019-05-11, so long expired. Only
 * the key, the serial number and so the fingerprint differ. A client that checks dates, names or
 * a chain refuses it, as it refuses the real gateway; the keeper pins it by fingerprint.
 * `modern`: a certificate a browser-like client could accept once trusted: valid now, with a
 * subjectAltName for `localhost` and `127.0.0.1`.
 */
import { webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';

export interface SimCertificate {
  readonly key: string;
  readonly cert: string;
  /** SHA-256 fingerprint in the form `ibkr-keeper trust` prints. */
  readonly fingerprint256: string;
}

/** The subject and issuer of IBKR's certificate, in its order (C first, CN last). */
export const IBKR_CERTIFICATE_NAME =
  'C=US, ST=CT, L=Greenwich, O=Interactive Brokers, OU=Client Portal, CN=Client Portal Web API';
/** The validity of IBKR's certificate: 89 days in 2019. */
export const IBKR_CERTIFICATE_VALIDITY = {
  notBefore: new Date('2019-02-10T16:26:02Z'),
  notAfter: new Date('2019-05-11T16:26:02Z'),
} as const;

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

/** A new key pair and a certificate for it: IBKR's shape, or `modern`. */
export async function generateCertificate(options: { modern?: boolean } = {}): Promise<SimCertificate> {
  const cert = options.modern ? await modernCertificate() : await ibkrLikeCertificate();
  return { ...cert, fingerprint256: new X509Certificate(cert.cert).fingerprint256 };
}

async function ibkrLikeCertificate(): Promise<{ key: string; cert: string }> {
  const algorithm = {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: 2048,
  };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(4),
    name: IBKR_CERTIFICATE_NAME,
    ...IBKR_CERTIFICATE_VALIDITY,
    signingAlgorithm: algorithm,
    keys,
    extensions: [await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)],
  });
  return { key: await pkcs8Pem(keys.privateKey), cert: cert.toString('pem') };
}

async function modernCertificate(): Promise<{ key: string; cert: string }> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notBefore = new Date(Date.now() - 60_000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(9),
    name: 'CN=localhost',
    notBefore,
    notAfter: new Date(notBefore.getTime() + 365 * 24 * 3_600_000),
    signingAlgorithm: algorithm,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { key: await pkcs8Pem(keys.privateKey), cert: cert.toString('pem') };
}

/**
 * A self-signed certificate with the given names and dates (P-256), for tests of what the keeper
 * accepts: a pin is a fingerprint, whatever the names and dates say.
 */
export async function customCertificate(options: {
  name: string;
  notBefore: Date;
  notAfter: Date;
  altNames?: Array<{ type: 'dns' | 'ip'; value: string }>;
}): Promise<SimCertificate> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const extensions: x509.Extension[] = [await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)];
  if (options.altNames) extensions.push(new x509.SubjectAlternativeNameExtension(options.altNames));
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(8),
    name: options.name,
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    signingAlgorithm: algorithm,
    keys,
    extensions,
  });
  const pem = cert.toString('pem');
  return { key: await pkcs8Pem(keys.privateKey), cert: pem, fingerprint256: new X509Certificate(pem).fingerprint256 };
}

/** A random positive serial number of `bytes` bytes, in hex (IBKR's has 4). */
function serial(bytes: number): string {
  const value = webcrypto.getRandomValues(new Uint8Array(bytes));
  value[0] = (value[0]! & 0x7f) | 0x01;
  return Buffer.from(value).toString('hex');
}

async function pkcs8Pem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const lines = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n');
  return `-----BEGIN PRIVATE KEY-----\n${lines}-----END PRIVATE KEY-----\n`;
}
