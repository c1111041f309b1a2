/**
 * The gateway's `session` id is a secret: it never reaches logs, history, notifications or the
 * renderer whole. This keeps its first and last four characters, enough to tell two apart.
 */
export function redactSessionId(session: string): string {
  if (session.length <= 8) return '…';
  return `${session.slice(0, 4)}…${session.slice(-4)}`;
}

const SESSION_KEYS = new Set(['session', 'id']);

/**
 * A deep copy of a gateway body with every `session` value (and the `id` of WebSocket replies)
 * redacted, for printing raw answers.
 */
export function redactBody(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactBody);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [
        key,
        SESSION_KEYS.has(key) && typeof inner === 'string' ? redactSessionId(inner) : redactBody(inner),
      ]),
    );
  }
  return value;
}
