/**
 * Chromium's certificate check, for the app's own sessions: the gateway's origin is accepted only
 * with the pinned certificate (by its SHA-256 fingerprint), everything else as Chromium decides.
 * The renderer never talks to the gateway; this keeps any future view of it honest.
 */
import type { Request } from 'electron';

/** Chromium's results: 0 accept, -2 reject, -3 use Chromium's own verification. */
export type VerifyResult = 0 | -2 | -3;

/** Electron gives `sha256/<base64>`; the trust store keeps `AB:CD:...`. */
export function toElectronFingerprint(hexWithColons: string): string {
  return `sha256/${Buffer.from(hexWithColons.replaceAll(':', ''), 'hex').toString('base64')}`;
}

export function verifyProc(pinned: () => { hostname: string; fingerprint256: string } | undefined) {
  return (
    request: Pick<Request, 'hostname' | 'certificate' | 'verificationResult'>,
    callback: (result: VerifyResult) => void,
  ): void => {
    const pin = pinned();
    if (pin === undefined || request.hostname !== pin.hostname) return callback(-3);
    callback(request.certificate.fingerprint === toElectronFingerprint(pin.fingerprint256) ? 0 : -2);
  };
}
