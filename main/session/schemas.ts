/**
 * Schemas for every body the gateway answers with (GATEWAY.md). Parse, don't trust: an answer that
 * does not fit becomes a classified observation with the reason, never a TypeError in the loop.
 * Objects are loose: builds add fields (`established`, `fail`, `prompts`, `tickle`) over the years.
 */
import { z } from 'zod';

const serverInfo = z.looseObject({
  serverName: z.string().optional(),
  serverVersion: z.string().optional(),
});

/** `/iserver/auth/status`, and the `iserver.authStatus` object inside a tickle. */
export const authStatusSchema = z.looseObject({
  authenticated: z.boolean(),
  competing: z.boolean(),
  connected: z.boolean(),
  message: z.string().optional(),
  MAC: z.string().optional(),
  serverInfo: serverInfo.optional(),
  fail: z.string().optional(),
  established: z.boolean().optional(),
  prompts: z.array(z.unknown()).optional(),
});
export type AuthStatus = z.infer<typeof authStatusSchema>;

/** `/tickle` when a session exists (authenticated or not). */
export const tickleSchema = z.looseObject({
  session: z.string(),
  ssoExpires: z.number().optional(),
  collission: z.boolean().optional(),
  userId: z.number().optional(),
  hmds: z.unknown().optional(),
  iserver: z
    .looseObject({
      authStatus: authStatusSchema.optional(),
    })
    .optional(),
});
export type Tickle = z.infer<typeof tickleSchema>;

/** `/sso/validate`. Only `RESULT` is certain; the rest is present when valid. */
export const ssoValidateSchema = z.looseObject({
  RESULT: z.boolean(),
  USER_ID: z.number().optional(),
  USER_NAME: z.string().optional(),
  EXPIRES: z.number().optional(),
  expire: z.number().optional(),
  AUTH_TIME: z.number().optional(),
  LOGIN_TYPE: z.number().optional(),
  loginType: z.number().optional(),
  PAPER_USER_NAME: z.string().optional(),
  IS_FREE_TRIAL: z.boolean().optional(),
  lastAccessed: z.number().optional(),
});
export type SsoValidate = z.infer<typeof ssoValidateSchema>;

/** `/iserver/reauthenticate`: `{"message":"triggered"}`. */
export const reauthSchema = z.looseObject({ message: z.string() });
export type Reauth = z.infer<typeof reauthSchema>;

/** `/iserver/auth/ssodh/init`: an auth-status-like object; its fields vary, so all are optional. */
export const ssoInitSchema = authStatusSchema.partial();
export type SsoInit = z.infer<typeof ssoInitSchema>;

/** `/logout`: `{"status":true}`, or `{"confirmed":true}` in old swagger. */
export const logoutSchema = z
  .looseObject({ status: z.boolean().optional(), confirmed: z.boolean().optional() })
  .refine((b) => b.status !== undefined || b.confirmed !== undefined, {
    message: 'neither "status" nor "confirmed" is present',
  });
export type Logout = z.infer<typeof logoutSchema>;

/** Any body of the form `{"error": "..."}` (status 200 or 4xx): "no session", "not logged in"... */
export const gatewayErrorSchema = z.looseObject({ error: z.string(), statusCode: z.number().optional() });
