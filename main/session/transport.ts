/**
 * One HTTPS exchange with Node's own client (node:https, whose HTTP parser is native): no extra
 * HTTP stack in memory, which keeps the headless keeper small. An error says whether it came
 * before the answer began (a kept-alive connection closed under us can be retried) or during it.
 */
import https from 'node:https';

export interface Exchange {
  readonly status: number;
  readonly text: string;
  /** The `Location` of a redirect (never followed). */
  readonly location?: string;
}

/** Where a failure happened: before any answer, or while the body arrived. */
export type FailurePhase = 'request' | 'body';

export class ExchangeError extends Error {
  readonly phase: FailurePhase;
  readonly code: string | undefined;

  constructor(cause: unknown, phase: FailurePhase) {
    const error = cause as NodeJS.ErrnoException;
    super(error?.message ?? String(cause), { cause });
    this.name = error?.name === 'AbortError' || error?.name === 'TimeoutError' ? 'TimeoutError' : 'ExchangeError';
    this.phase = phase;
    this.code = error?.code;
  }
}

/** Largest body read (the session endpoints answer well under a kilobyte). */
const MAX_BODY = 1_048_576;

export function exchange(
  url: string,
  options: { method: string; agent: https.Agent; headers: Record<string, string>; body?: string; timeoutMs: number },
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    let phase: FailurePhase = 'request';
    const fail = (error: unknown): void =>
      reject(error instanceof ExchangeError ? error : new ExchangeError(error, phase));
    const req = https.request(
      url,
      {
        method: options.method,
        agent: options.agent,
        headers: options.headers,
        signal: AbortSignal.timeout(options.timeoutMs),
      },
      (res) => {
        phase = 'body';
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          if (text.length > MAX_BODY)
            req.destroy(Object.assign(new Error(`answer larger than ${MAX_BODY} bytes`), { code: 'EMSGSIZE' }));
        });
        res.on('end', () => {
          const location = typeof res.headers.location === 'string' ? res.headers.location : undefined;
          if (res.complete)
            resolve({ status: res.statusCode ?? 0, text, ...(location === undefined ? {} : { location }) });
          else fail(Object.assign(new Error('the answer was cut off'), { code: 'ECONNRESET' }));
        });
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end(options.body);
  });
}
