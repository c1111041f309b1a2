/**
 * What can happen to the simulated gateway: the vocabulary of scenario files and of the control
 * interface alike. Each event is checked by a schema, so a typo names the field at fault.
 */
import { duration } from '../session/duration.ts';
import * as z from '../session/zod.ts';

export { duration };

/** Answers to the next requests that go wrong in one way. */
export const FAULTS = [
  'malformed',
  'truncated',
  'slow',
  'reset',
  'server-error',
  'empty',
  'unexpected-shape',
  'sso-invalid',
  'leak-session',
  'deeply-nested',
] as const;
export type FaultKind = (typeof FAULTS)[number];

export const eventSchema = z.discriminatedUnion('type', [
  /** A person logs in through the login page. */
  z.object({ type: z.literal('login') }),
  /** As `/logout`: the brokerage session and the login end. */
  z.object({ type: z.literal('logout') }),
  /** The brokerage session drops (idle timeout, daily reset); the login stays valid. */
  z.object({ type: z.literal('drop') }),
  /** Connected to IBKR but not authenticated: tickle answers `{"error":"no session"}`. */
  z.object({ type: z.literal('unauthenticate') }),
  /**
   * Another login arrives: `kicked` (default) takes the session, otherwise it competes for it.
   * While it holds the session the auth status shows `shows`: `kicked` (authenticated:false,
   * competing:true) or `not-authenticated` (authenticated:false, competing:false, as a plain
   * drop). With `takeBackAfter`, it fights back: this long after each time it loses the session
   * (to a reauthentication, a takeover or a login here) it takes it back. `recover` ends the fight.
   */
  z.object({
    type: z.literal('compete'),
    kicked: z._default(z.boolean(), true),
    takeBackAfter: z.optional(duration),
    shows: z._default(z.enum(['kicked', 'not-authenticated']), 'kicked'),
  }),
  /** Nobody is logged in any more: 401 on every API path. */
  z.object({ type: z.literal('expire-sso') }),
  /** This computer's IP is not allowed: 404 `Access Denied` everywhere. */
  z.object({ type: z.literal('access-denied'), duration: z.optional(duration) }),
  /** IBKR restarts: 500/503 with empty bodies, then the brokerage session is gone. */
  z.object({ type: z.literal('restart'), duration: z._default(duration, 60_000) }),
  /**
   * IBKR cannot be reached at all, as on a machine without internet: API requests (`/v1/api/*`)
   * and the login page (`/sso/*`) are accepted and never answered; the gateway's own answers
   * (redirects, Access Denied) still come. Until `recover`, or for `duration`.
   */
  z.object({ type: z.literal('unreachable'), duration: z.optional(duration) }),
  /** The gateway cannot reach IBKR: tickle "failed to process request", /iserver "no bridge". */
  z.object({ type: z.literal('no-bridge'), duration: z._default(duration, 60_000) }),
  /** The next `count` matching requests go wrong in this way. */
  z.object({
    type: z.literal('fault'),
    fault: z.enum(FAULTS),
    count: z._default(z.int().check(z.positive()), 1),
    /** Only requests whose path contains this (e.g. "/tickle"); all API paths when absent. */
    path: z.optional(z.string()),
    /** For `slow`: how long to wait before answering. */
    delay: z._default(duration, 30_000),
  }),
  /**
   * The WebSocket `/v1/api/ws`: stop or resume its heartbeats, close every socket (code 1001), refuse
   * or accept upgrades (503). `recover` resumes heartbeats and accepts upgrades again.
   */
  z.object({
    type: z.literal('push'),
    action: z.enum(['drop-heartbeats', 'resume-heartbeats', 'close-sockets', 'refuse-upgrades', 'accept-upgrades']),
  }),
  /** Ends outages, pending faults and another login's fight for the session. */
  z.object({ type: z.literal('recover') }),
  /** A new certificate, as after reinstalling the gateway. */
  z.object({ type: z.literal('rotate-certificate') }),
  /** Jumps the simulator's clock forward (idle timeouts, expiry, penalties follow). */
  z.object({ type: z.literal('advance'), by: duration }),
  /** Changes the time-driven behaviour. */
  z.object({
    type: z.literal('configure'),
    idleTimeout: z.optional(duration),
    reauthLatency: z.optional(duration),
    reauthOutcome: z.optional(z.enum(['succeed', 'fail'])),
    maxSession: z.optional(duration),
    variant: z.optional(z.enum(['current', '2023', '2021'])),
  }),
]);
export type SimEvent = z.output<typeof eventSchema>;
export type SimEventInput = z.input<typeof eventSchema>;

/** A scenario file: a timeline of events, each `at` a time after the simulator started. */
export const scenarioSchema = z.object({
  name: z.optional(z.string()),
  events: z.array(z.intersection(z.object({ at: duration }), eventSchema)),
});
export type Scenario = z.output<typeof scenarioSchema>;

/** A readable account of the first problem in a zod error: path and message. */
export function describeIssue(error: z.core.$ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid';
  const where = issue.path.length > 0 ? `"${issue.path.join('.')}": ` : '';
  return `${where}${issue.message}`;
}
