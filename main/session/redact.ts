/**
 * The gateway's `session` id is a secret: it never reaches logs, history, notifications or the
 * renderer whole, wherever the gateway puts it (any key, any string, an error text, a malformed
 * body). Redaction goes by value: every id seen in a tickle is remembered, and any run of 32 or
 * more hexadecimal digits (the form of a session id) is redacted too, so an id in a body that could
 * not even be parsed is caught.
 */

/** Keeps the first and last four characters, enough to tell two apart. */
export function redactSessionId(session: string): string {
  if (session.length <= 8) return '…';
  return `${session.slice(0, 4)}…${session.slice(-4)}`;
}

const HEX_RUN = /[0-9a-f]{32,}/gi;
const MAX_KNOWN = 16;
const known: string[] = [];

/** Remembers a session id seen, so that it is redacted wherever it appears later. */
export function rememberSecret(secret: string): void {
  if (secret.length < 12 || known.includes(secret)) return;
  known.push(secret);
  if (known.length > MAX_KNOWN) known.shift();
}

/** A text with every remembered session id, and every run of 32+ hex digits, redacted. */
export function redactText(text: string): string {
  let out = text;
  for (const secret of known) if (out.includes(secret)) out = out.replaceAll(secret, redactSessionId(secret));
  return out.replace(HEX_RUN, redactSessionId);
}

const SESSION_KEYS = new Set(['session', 'id']);
/** Deeper than this, a value is replaced by a marker: bodies are small, and recursion stays bounded. */
const MAX_DEPTH = 32;

/**
 * A deep copy of a body with every string redacted by value and every `session` value (and the
 * `id` of WebSocket replies) redacted by key, for printing and keeping.
 */
export function redactBody(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[nested too deeply]';
  if (Array.isArray(value)) return value.map((inner) => redactBody(inner, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      redactText(key),
      SESSION_KEYS.has(key) && typeof inner === 'string' ? redactSessionId(inner) : redactBody(inner, depth + 1),
    ]),
  );
}

/**
 * Text a person typed or a file held, safe to quote in a one-line message: credentials in a URL
 * removed, cut to `max` characters.
 */
export function quoteInput(input: string, max = 80): string {
  const flat = input.replace(/\s+/g, ' ').replace(/\/\/[^/@\s]*@/g, '//…@');
  return JSON.stringify(flat.length > max ? `${flat.slice(0, max - 1)}…` : flat);
}
