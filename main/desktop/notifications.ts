/**
 * The app's notifications: Electron's own (native on Linux, macOS and Windows, credited to the
 * app, with clicks), behind the engine's NotificationSink. Where Electron says they are not
 * supported, node-notifier's sink stands in. A notification that cannot be shown is reported
 * (`onError`: the log and the window), never dropped silently.
 */
import type { NotificationConstructorOptions } from 'electron';
import type { Notification } from '../session/notifications.ts';
import type { NotificationSink } from '../session/notifier.ts';

/** What the app uses of one of Electron's notifications. */
export interface NativeNotification {
  on(event: 'click' | 'close' | 'show', listener: () => void): unknown;
  /** Windows only: the toast could not be shown. */
  on(event: 'failed', listener: (event: unknown, error: string) => void): unknown;
  show(): void;
}

export interface AppNotifierDeps {
  /** Electron's `Notification.isSupported()`. */
  isSupported(): boolean;
  /** `new Notification(options)`. */
  create(options: NotificationConstructorOptions): NativeNotification;
  /** Where notifications go when Electron's are not supported (node-notifier). */
  fallback: NotificationSink;
  onClick(notification: Notification): void;
  onError(message: string): void;
  /** The app's icon (Linux shows it beside the text). */
  icon?: string;
}

/** The options of Electron's notification for one of the engine's. */
export function nativeOptions(note: Notification, icon?: string): NotificationConstructorOptions {
  const problem = note.kind !== 'recovery';
  return {
    title: note.title,
    body: note.message,
    icon,
    // Linux: a problem stays until dismissed (critical), "back" goes by itself.
    urgency: problem ? 'critical' : 'normal',
    // Windows: a problem's toast stays until dismissed too.
    timeoutType: problem ? 'never' : 'default',
  };
}

export class AppNotifier implements NotificationSink {
  readonly #deps: AppNotifierDeps;
  /**
   * Notifications on screen: held until closed or clicked, since one that is garbage-collected
   * loses its click handler (Electron's documented pitfall).
   */
  readonly #live = new Set<NativeNotification>();

  constructor(deps: AppNotifierDeps) {
    this.#deps = deps;
  }

  /** How many notifications are held now (for tests: they are let go once closed or clicked). */
  get held(): number {
    return this.#live.size;
  }

  async show(note: Notification): Promise<void> {
    let supported: boolean;
    try {
      supported = this.#deps.isSupported();
    } catch {
      supported = false;
    }
    if (!supported) return this.#deps.fallback.show(note);
    const failed = (why: string): void =>
      this.#deps.onError(`Could not show the notification "${note.title}" (${why}).`);
    let native: NativeNotification;
    try {
      native = this.#deps.create(nativeOptions(note, this.#deps.icon));
    } catch (error) {
      return failed((error as Error).message);
    }
    const release = (): void => void this.#live.delete(native);
    native.on('click', () => {
      release();
      this.#deps.onClick(note);
    });
    native.on('close', release);
    native.on('failed', (_event, error) => {
      release();
      failed(String(error));
    });
    this.#live.add(native);
    try {
      native.show();
    } catch (error) {
      release();
      failed((error as Error).message);
    }
  }
}
