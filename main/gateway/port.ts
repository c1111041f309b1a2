/**
 * What listens on the gateway's port: a TLS server (the gateway: its port is ready when it
 * completes a handshake, docs/gateway.md), nothing, or another program.
 */
import { probeCertificate } from '../session/tls.ts';

/** `tls`: a handshake completed; `free`: connection refused; else a description of what answered. */
export async function probePort(port: number, timeoutMs = 2_000): Promise<'tls' | 'free' | string> {
  try {
    await probeCertificate('127.0.0.1', port, timeoutMs);
    return 'tls';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED') return 'free';
    if (code === 'ETIMEDOUT') return 'it accepts connections but completes no TLS handshake';
    return `it answers, but not with TLS: ${code ?? (error as Error).message}`;
  }
}
