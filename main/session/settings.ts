/**
 * The settings: one schema with defaults and migrations, kept in `settings.json` of the config
 * folder, by electron-store on the desktop and by `conf` headless (electron-store is conf: same
 * file, same format). A bad value, typed by a person or found in the file, gets a message that
 * names the field and what to give; a bad file never crashes the app and is never overwritten.
 */
import Conf from 'conf';
import * as z from './zod.ts';
import { UserError } from './errors.ts';
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
  intervalSeconds: z.number({ message: 'The interval must be a number of seconds.' }).check(
    z.int('The interval must be a whole number of seconds.'),
    z.minimum(1, 'The interval must be at least 1 second.'),
    z.maximum(MAX_INTERVAL_SECONDS, `The interval must be at most ${MAX_INTERVAL_SECONDS} seconds: the gateway ends a session idle for about 5 minutes.`),
  ),
  /** Which notifications to show. */
  notifications: z.object(Object.fromEntries(NOTIFICATION_KINDS.map((kind) => [kind, z.boolean()])) as Record<NotificationKind, z.ZodMiniBoolean>),
  /** Launch at login: null until decided, then on by default after the first successful session. */
  launchAtLogin: z.nullable(z.boolean()),
  /** The gateway's folder, for explanations (Access Denied) and `doctor`; null when not known. */
  gatewayDir: gatewayDirField,
});
export type Settings = z.infer<typeof settingsSchema>;
export type SettingsField = keyof Settings;

export const DEFAULT_SETTINGS: Settings = {
  gateway: DEFAULT_GATEWAY,
  intervalSeconds: 60,
  notifications: Object.fromEntries(NOTIFICATION_KINDS.map((kind) => [kind, true])) as Record<NotificationKind, boolean>,
  launchAtLogin: null,
  gatewayDir: null,
};

/** The outcome of checking settings a person changed. */
export type SettingsCheck = { readonly ok: true; readonly settings: Settings } | { readonly ok: false; readonly errors: Partial<Record<SettingsField, string>> };

/** Checks a change against the schema; a field's message says what to give. Nothing is saved here. */
export function checkSettings(change: unknown, current: Settings): SettingsCheck {
  if (change === null || typeof change !== 'object') return { ok: false, errors: { gateway: 'No settings were given.' } };
  const merged = { ...current, ...(change as Partial<Settings>) };
  if (typeof merged.gateway === 'string') merged.gateway = merged.gateway.trim();
  const parsed = settingsSchema.safeParse(merged);
  if (parsed.success) return { ok: true, settings: { ...parsed.data, gateway: parseGatewayUrl(parsed.data.gateway).origin } };
  const errors: Partial<Record<SettingsField, string>> = {};
  for (const issue of parsed.error.issues) {
    const field = issue.path[0] as SettingsField;
    errors[field] ??= field === 'notifications' ? 'Each notification is on or off.' : issue.message;
  }
  return { ok: false, errors };
}

/**
 * Migrations by project version (conf and electron-store run them on start). 0.1.0: a gateway
 * saved with its API path (`https://localhost:5000/v1/api`) is kept as its address alone.
 */
export const SETTINGS_MIGRATIONS: Record<string, (store: Conf<Record<string, unknown>>) => void> = {
  '0.1.0': (store) => {
    const gateway = store.get('gateway');
    if (typeof gateway === 'string') {
      try {
        store.set('gateway', parseGatewayUrl(gateway).origin);
      } catch {
        // Left as it is: reading reports it and uses the default.
      }
    }
  },
};

/** The options both conf and electron-store are given, so they read and write the same file. */
export function storeOptions(configDir: string): {
  cwd: string;
  defaults: Record<string, unknown>;
  projectVersion: string;
  migrations: typeof SETTINGS_MIGRATIONS;
  accessPropertiesByDotNotation: false;
  clearInvalidConfig: false;
} {
  return { cwd: configDir, defaults: DEFAULT_SETTINGS, projectVersion: '0.1.0', migrations: SETTINGS_MIGRATIONS, accessPropertiesByDotNotation: false, clearInvalidConfig: false };
}

/** Settings read from a store, with a message for every field that was bad and replaced by its default. */
export interface SettingsRead {
  readonly settings: Settings;
  readonly problems: string[];
}

/** The settings of a conf-like store (conf headless, electron-store on the desktop). */
export class SettingsFile {
  readonly #store: Pick<Conf<Record<string, unknown>>, 'store' | 'path'>;

  constructor(store: Pick<Conf<Record<string, unknown>>, 'store' | 'path'>) {
    this.#store = store;
  }

  /** `settings.json` of the config folder through conf. */
  static open(configDir: string): SettingsFile {
    try {
      return new SettingsFile(new Conf<Record<string, unknown>>({ ...storeOptions(configDir), configName: 'settings' }));
    } catch (error) {
      throw new UserError(`Could not read the settings in ${configDir}/settings.json (${(error as Error).message}): fix or delete the file.`);
    }
  }

  get path(): string {
    return this.#store.path;
  }

  read(): SettingsRead {
    const raw = { ...DEFAULT_SETTINGS, ...this.#store.store } as Record<string, unknown>;
    const settings = { ...DEFAULT_SETTINGS };
    const problems: string[] = [];
    for (const field of Object.keys(DEFAULT_SETTINGS) as SettingsField[]) {
      const check = checkSettings({ [field]: raw[field] }, DEFAULT_SETTINGS);
      if (check.ok) (settings as Record<string, unknown>)[field] = check.settings[field];
      else problems.push(`${this.#store.path}: "${field}" ${JSON.stringify(raw[field])} is not valid (${check.errors[field]}); using ${JSON.stringify(DEFAULT_SETTINGS[field])}.`);
    }
    return { settings, problems };
  }

  write(settings: Settings): void {
    this.#store.store = { ...settings };
  }
}
