/**
 * Where the real gateway sends a request, and the answers it makes itself rather than proxying
 * IBKR's: the redirects, `Access Denied` and its demo page, byte for byte as seen from the real
 * gateway (docs/gateway.md, "The simulator against the real gateway"): headers in its order,
 * no `Date` on a redirect or on Access Denied, `Connection: close` only when the client asked
 * for it, and an empty redirect still sent chunked. (Node answers HTTP/1.0 requests in HTTP/1.1,
 * where the real gateway answers in 1.0: the one difference left, and no client of it uses 1.0.)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LOGIN_REDIRECT } from './login-page.ts';

/** IBKR's servers, where the gateway redirects every path it neither serves nor proxies. */
export const IBKR_ORIGIN = 'https://api.ibkr.com';

/** What the gateway does with a path. */
export type Route =
  /** Proxied to IBKR: the API (`/v1/portal/...` already rewritten to `/v1/api/...`). */
  | { readonly kind: 'api'; readonly path: string }
  /** Proxied to IBKR: the login pages. */
  | { readonly kind: 'sso'; readonly path: string }
  /** The gateway's own demo app. */
  | { readonly kind: 'demo'; readonly path: string }
  /** A redirect: `/` to the login page, anything else to IBKR. */
  | { readonly kind: 'redirect'; readonly path: string; readonly location: string };

/** The route of a request target: query dropped, `//` collapsed, `.` and `..` resolved. */
export function routeOf(target: string): Route {
  const path = normalizePath(target);
  if (path.startsWith('/v1/api/')) return { kind: 'api', path };
  if (path.startsWith('/v1/portal/')) return { kind: 'api', path: `/v1/api/${path.slice('/v1/portal/'.length)}` };
  if (path.startsWith('/sso/')) return { kind: 'sso', path };
  if (path === '/') return { kind: 'redirect', path, location: LOGIN_REDIRECT };
  if (path === '/demo' || path === '/demo/' || path === '/demo/index.html') return { kind: 'demo', path };
  return { kind: 'redirect', path, location: `${IBKR_ORIGIN}${path}` };
}

function normalizePath(target: string): string {
  const raw = target.split(/[?#]/, 1)[0] ?? '';
  const segments: string[] = [];
  for (const segment of raw.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && /\/(\.\.?)?$/.test(raw) ? '/' : '';
  return `/${segments.join('/')}${trailing}`;
}

/**
 * Takes the headers out of Node's hands: no `Date`, and `Connection` only as `close` when the
 * client asked to close (the real gateway says nothing of a connection it keeps open).
 */
function bare(res: ServerResponse): string[] {
  res.sendDate = false;
  res.removeHeader('connection');
  return res.shouldKeepAlive ? [] : ['Connection', 'close'];
}

/** `302` with `Location` and an empty chunked body, as the gateway redirects. */
export function sendRedirect(req: IncomingMessage, res: ServerResponse, location: string): void {
  const connection = bare(res);
  const body =
    req.method === 'HEAD' ? [] : req.httpVersion === '1.0' ? ['Content-Length', '0'] : ['Transfer-Encoding', 'chunked'];
  res.writeHead(302, ['Location', location, ...connection, ...body]);
  res.end();
}

/** `404` with the 13 bytes `Access Denied`, no content type: the gateway's answer to an address not allowed. */
export function sendAccessDenied(res: ServerResponse): void {
  const connection = bare(res);
  res.writeHead(404, ['Content-Length', '13', ...connection]);
  res.end('Access Denied');
}

const DEMO_PAGE = `<!DOCTYPE html>
<html>
<head>
<meta charset="UTF-8">
<title>Client Portal Gateway demo (simulator)</title>
</head>
<body>
<p>The real gateway serves its demo app here (mounted on /demo); the simulator has none.</p>
</body>
</html>
`;

/** The gateway's demo app (`webApps` in conf.yaml), a static page served with a day's caching. */
export function sendDemoPage(res: ServerResponse, lastModified: Date): void {
  const connection = bare(res);
  res.writeHead(200, [
    'Accept-Ranges',
    'bytes',
    'Content-Length',
    String(Buffer.byteLength(DEMO_PAGE)),
    'cache-control',
    'public, max-age=86400',
    'last-modified',
    lastModified.toUTCString(),
    'date',
    new Date().toUTCString(),
    'Content-Type',
    'text/html;charset=UTF-8',
    ...connection,
  ]);
  res.end(DEMO_PAGE);
}
