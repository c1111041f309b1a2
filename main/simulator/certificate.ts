/**
 * The simulator's certificate: made fresh at every start (and on rotation), self-signed like the
 * real gateway's, for `localhost` and `127.0.0.1`.
 */
import selfsigned from 'selfsigned';
import { X509Certificate } from 'node:crypto';

export interface SimCertificate {
  readonly key: string;
  readonly cert: string;
  /** SHA-256 fingerprint in the form `ibkr-keeper trust` prints. */
  readonly fingerprint256: string;
}

export async function generateCertificate(): Promise<SimCertificate> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + 365 * 24 * 3_600_000);
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert, fingerprint256: new X509Certificate(pems.cert).fingerprint256 };
}
