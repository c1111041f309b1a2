/**
 * Schemas for every body the gateway answers with (docs/gateway.md). Parse, don't trust: an answer that
 * does not fit becomes a classified observation with the reason, never a TypeError in the loop.
 * Objects are loose: builds add fields (`established`, `fail`, `prompts`, `tickle`) over the years.
 */
import * as z from './zod.ts';

const serverInfo = z.looseObject({
  serverName: z.optional(z.string()),
  serverVersion: z.optional(z.string()),
});

/** `/iserver/auth/status`, and the `iserver.authStatus` object inside a tickle. */
export const authStatusSchema = z.looseObject({
  authenticated: z.boolean(),
  competing: z.boolean(),
  connected: z.boolean(),
  message: z.optional(z.string()),
  MAC: z.optional(z.string()),
  serverInfo: z.optional(serverInfo),
  fail: z.optional(z.string()),
  established: z.optional(z.boolean()),
  prompts: z.optional(z.array(z.unknown())),
});
export type AuthStatus = z.infer<typeof authStatusSchema>;

/** `/tickle` when a session exists (authenticated or not). */
export const tickleSchema = z.looseObject({
  session: z.string(),
  ssoExpires: z.optional(z.number()),
  collission: z.optional(z.boolean()),
  userId: z.optional(z.number()),
  hmds: z.optional(z.unknown()),
  iserver: z.optional(z.looseObject({ authStatus: z.optional(authStatusSchema) })),
});
export type Tickle = z.infer<typeof tickleSchema>;

/** `/sso/validate`. Only `RESULT` is certain; the rest is present when valid. */
export const ssoValidateSchema = z.looseObject({
  RESULT: z.boolean(),
  USER_ID: z.optional(z.number()),
  USER_NAME: z.optional(z.string()),
  EXPIRES: z.optional(z.number()),
  expire: z.optional(z.number()),
  AUTH_TIME: z.optional(z.number()),
  LOGIN_TYPE: z.optional(z.number()),
  loginType: z.optional(z.number()),
  PAPER_USER_NAME: z.optional(z.string()),
  IS_FREE_TRIAL: z.optional(z.boolean()),
  lastAccessed: z.optional(z.number()),
});
export type SsoValidate = z.infer<typeof ssoValidateSchema>;

/** `/iserver/reauthenticate`: `{"message":"triggered"}`. */
export const reauthSchema = z.looseObject({ message: z.string() });
export type Reauth = z.infer<typeof reauthSchema>;

/** `/iserver/auth/ssodh/init`: an auth-status-like object; its fields vary, so all are optional. */
export const ssoInitSchema = z.partial(authStatusSchema);
export type SsoInit = z.infer<typeof ssoInitSchema>;

/** `/logout`: `{"status":true}`, or `{"confirmed":true}` in old swagger. */
export const logoutSchema = z
  .looseObject({ status: z.optional(z.boolean()), confirmed: z.optional(z.boolean()) })
  .check(
    z.refine((b) => b.status !== undefined || b.confirmed !== undefined, {
      message: 'neither "status" nor "confirmed" is present',
    }),
  );
export type Logout = z.infer<typeof logoutSchema>;

/** Any body of the form `{"error": "..."}` (status 200 or 4xx): "no session", "not logged in"... */
export const gatewayErrorSchema = z.looseObject({ error: z.string(), statusCode: z.optional(z.number()) });
