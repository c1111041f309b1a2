/**
 * The settings: one schema with defaults, kept in `settings.json` of the config folder in the
 * format of electron-store and conf. A bad value, typed by a person or found in the file, gets a
 * message that names the field and what to give; a bad file never crashes the app and is never
 * overwritten.
 */
import path from 'node:path';
import * as z from './zod.ts';
import { readJsonObject, writeJsonFile } from './json-store.ts';
import { DEFAULT_GATEWAY, parseGatewayUrl } from './gateway-client.ts';
import { NOTIFICATION_KINDS, type NotificationKind } from './notifications.ts';
import { checkGatewayFolder } from '../gateway/folder.ts';

/** The longest interval: the gateway ends an idle session after about 5 minutes. */
export const MAX_INTERVAL_SECONDS = 240;

const gatewayField = z.string().check(
  z.superRefine((value, ctx) => {
    try {
      parseGatewayUrl(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
    }
  }),
);

/** A gateway folder (where bin/run.sh, root/conf.yaml and dist/*.jar are), or null when not known. */
const gatewayDirField = z.nullable(
  z.string().check(
    z.superRefine((value, ctx) => {
      try {
        checkGatewayFolder(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    }),
  ),
);

export const settingsSchema = z.object({
  /** The gateway's address. */
  gateway: gatewayField,
  /** Seconds between tickles. */
  intervalSeconds: z
    .number({ message: 'The interval must be a number of seconds.' })
    .check(
      z.int('The interval must be a whole number of seconds.'),
      z.minimum(1, 'The interval must be at least 1 second.'),
      z.maximum(
        MAX_INTERVAL_SECONDS,
        `The interval must be at most ${MAX_INTERVAL_SECONDS} seconds: the gateway ends a session idle for ` +
          `about 5 minutes.`,
      ),
    ),
  /** Which notifications to show. */
  notifications: z.object(
    Object.fromEntries(NOTIFICATION_KINDS.map((kind) => [kind, z.boolean()])) as Record<
      NotificationKind,
      z.ZodMiniBoolean
    >,
  ),
  /** Launch at login: null until decided, then on by default after the first successful session. */
  launchAtLogin: z.nullable(z.boolean()),
  /** The gateway's folder, for explanations (Access Denied) and `doctor`; null when not known. */
  gatewayDir: gatewayDirField,
  /** "Run the gateway with the app": the app starts the gateway in gatewayDir and keeps it alive. */
  runGateway: z.boolean({ message: '"Run the gateway with the app" is on or off.' }),
  /** "Leave it running when I quit": the app does not stop the gateway it started on quit. */
  leaveGatewayRunning: z.boolean({ message: '"Leave it running when I quit" is on or off.' }),
  /**
   * "I run the gateway myself": the desktop app's first-run step (asking for the gateway's folder
   * while none is set and no gateway answers) was dismissed, and is not shown again.
   */
  gatewaySetupDismissed: z.boolean({ message: '"I run the gateway myself" is on or off.' }),
});
export type Settings = z.infer<typeof settingsSchema>;
export type SettingsField = keyof Settings;

export const DEFAULT_SETTINGS: Settings = {
  gateway: DEFAULT_GATEWAY,
  intervalSeconds: 60,
  notifications: Object.fromEntries(NOTIFICATION_KINDS.map((kind) => [kind, true])) as Record<
    NotificationKind,
    boolean
  >,
  launchAtLogin: null,
  gatewayDir: null,
  runGateway: false,
  leaveGatewayRunning: false,
  gatewaySetupDismissed: false,
};

/** The outcome of checking settings a person changed. */
export type SettingsCheck =
  | { readonly ok: true; readonly settings: Settings }
  | { readonly ok: false; readonly errors: Partial<Record<SettingsField, string>> };

/** Checks a change against the schema; a field's message says what to give. Nothing is saved here. */
export function checkSettings(change: unknown, current: Settings): SettingsCheck {
  if (change === null || typeof change !== 'object')
    return { ok: false, errors: { gateway: 'No settings were given.' } };
  const merged = { ...current, ...(change as Partial<Settings>) };
  if (typeof merged.gateway === 'string') merged.gateway = merged.gateway.trim();
  const parsed = settingsSchema.safeParse(merged);
  if (parsed.success)
    return { ok: true, settings: { ...parsed.data, gateway: parseGatewayUrl(parsed.data.gateway).origin } };
  const errors: Partial<Record<SettingsField, string>> = {};
  for (const issue of parsed.error.issues) {
    const field = issue.path[0] as SettingsField;
    errors[field] ??= field === 'notifications' ? 'Each notification is on or off.' : issue.message;
  }
  return { ok: false, errors };
}

/** Settings read from a store, with a message for every field that was bad and replaced by its default. */
export interface SettingsRead {
  readonly settings: Settings;
  readonly problems: string[];
}

/**
 * `settings.json` of the config folder, in the format electron-store and conf use (the desktop app
 * and `ibkr-keeper` share it). Read without writing anything: a value that is not valid is named
 * and its default used; a file that is not a JSON object is an error naming it, never read as
 * empty. Written only when the user saves (and once for launch at login, see DesktopCore), and
 * then only the keys saved change: keys this version does not know are kept as they are.
 */
export class SettingsFile {
  readonly path: string;

  constructor(configDir: string) {
    this.path = path.join(configDir, 'settings.json');
  }

  /** `settings.json` of the config folder. */
  static open(configDir: string): SettingsFile {
    return new SettingsFile(configDir);
  }

  read(): SettingsRead {
    const raw = { ...DEFAULT_SETTINGS, ...this.#raw() } as Record<string, unknown>;
    const settings = { ...DEFAULT_SETTINGS };
    const problems: string[] = [];
    for (const field of Object.keys(DEFAULT_SETTINGS) as SettingsField[]) {
      // checkSettings also keeps a gateway saved with its API path (`.../v1/api`, before 0.1.0) as its address alone.
      const check = checkSettings({ [field]: raw[field] }, DEFAULT_SETTINGS);
      if (check.ok) (settings as Record<string, unknown>)[field] = check.settings[field];
      else
        problems.push(
          `${this.path}: "${field}" ${JSON.stringify(raw[field])} is not valid ` +
            `(${check.errors[field]}); using ${JSON.stringify(DEFAULT_SETTINGS[field])}.`,
        );
    }
    return { settings, problems };
  }

  /** Writes the given settings over those in the file; every other key in it stays as it is. */
  write(change: Partial<Settings>): void {
    writeJsonFile(this.path, { ...this.#raw(), ...change });
  }

  #raw(): Record<string, unknown> {
    return readJsonObject(this.path) ?? {};
  }
}
