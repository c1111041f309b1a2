/**
 * What listens on the gateway's port: IBKR's gateway (a TLS handshake, then `GET /` answered as
 * the gateway answers it: docs/gateway.md, "Routing"), nothing, or another program. A TLS server
 * alone is not taken for the gateway: another program on the port must be named, not attached to.
 */
import https from 'node:https';
import { PinnedAgent, probeCertificate } from '../session/tls.ts';

/** `tls`: IBKR's gateway answers; `free`: connection refused; else a description of what answered. */
export async function probePort(port: number, timeoutMs = 2_000): Promise<'tls' | 'free' | string> {
  let fingerprint256: string;
  try {
    fingerprint256 = (await probeCertificate('127.0.0.1', port, timeoutMs)).fingerprint256;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED') return 'free';
    if (code === 'ETIMEDOUT') return 'it accepts connections but completes no TLS handshake';
    return `it answers, but not with TLS: ${code ?? (error as Error).message}`;
  }
  return (await askRoot(port, fingerprint256, timeoutMs)) ?? 'tls';
}

/**
 * `GET /` over a connection pinned to the certificate just presented (main/session/tls.ts): the
 * gateway answers it itself, without IBKR, with 302 to `/sso/Login...` (its login page) or, to an
 * address its allow list refuses, 404 `Access Denied`. Undefined when that is the answer, else
 * what answered instead.
 */
function askRoot(port: number, fingerprint256: string, timeoutMs: number): Promise<string | undefined> {
  const agent = new PinnedAgent(fingerprint256, { timeoutMs });
  return new Promise<string | undefined>((resolve) => {
    const request = https.get(
      { host: '127.0.0.1', port, path: '/', agent, headers: { host: `localhost:${port}` }, timeout: timeoutMs },
      (response) => {
        let body = '';
        response.setEncoding('latin1');
        response.on('data', (chunk: string) => {
          if (body.length < 64) body += chunk;
        });
        response.on('error', () => undefined);
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          const location = response.headers.location ?? '';
          if (status === 302 && location.startsWith('/sso/Login')) return resolve(undefined);
          if (status === 404 && body === 'Access Denied') return resolve(undefined);
          resolve(
            `an HTTPS server, but not IBKR's gateway: GET / answered ${status}` +
              (location === '' ? '' : ` to ${location}`) +
              ' instead of a redirect to its login page',
          );
        });
      },
    );
    request.on('timeout', () => request.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    request.on('error', (error: NodeJS.ErrnoException) =>
      resolve(`a TLS server that does not answer GET / as IBKR's gateway does (${error.code ?? error.message})`),
    );
  }).finally(() => agent.destroy());
}
