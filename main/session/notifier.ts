/**
 * Desktop notifications through node-notifier (notify-send on Linux, Notification Center on
 * macOS, toasts on Windows), for `ibkr-keeper watch --notify`. The desktop app shows its own
 * through Electron (main/desktop/notifications.ts) behind the same interface, and uses this one
 * only where Electron's are not supported.
 */
import notifier from 'node-notifier';
import { APP_ID, PRODUCT_NAME } from '../app-id.ts';
import type { Notification } from './notifications.ts';

/** Somewhere notifications go. */
export interface NotificationSink {
  show(notification: Notification): Promise<void>;
}

/** Shows notifications with node-notifier; a failure to show one is reported, never thrown. */
export class DesktopNotifier implements NotificationSink {
  readonly #appName: string;
  readonly #onError: (message: string) => void;

  readonly #onClick: ((notification: Notification) => void) | undefined;

  /** `onClick` is called where the platform reports a click (macOS, Windows; not notify-send). */
  constructor(
    options: {
      appName?: string;
      onError?: (message: string) => void;
      onClick?: (notification: Notification) => void;
    } = {},
  ) {
    this.#appName = options.appName ?? PRODUCT_NAME;
    this.#onError = options.onError ?? (() => undefined);
    this.#onClick = options.onClick;
  }

  show(notification: Notification): Promise<void> {
    return new Promise((resolve) => {
      notifier.notify(
        {
          title: notification.title,
          message: notification.message,
          // notify-send: the app name and an urgency dunst and other daemons show.
          'app-name': this.#appName,
          // Windows: toasts are attributed to the AppUserModelID the desktop app sets.
          appID: APP_ID,
          urgency: notification.kind === 'recovery' ? 'normal' : 'critical',
          wait: this.#onClick !== undefined,
        } as notifier.Notification,
        (error, response) => {
          if (!error && this.#onClick && /^(activate|clicked)$/i.test(String(response))) this.#onClick(notification);
          if (error) {
            // notify-send's own words are on the last line of "Command failed: ...".
            const cause = error.message
              .split('\n')
              .map((line) => line.trim())
              .filter((line) => line !== '' && line !== ')')
              .at(-1);
            this.#onError(`Could not show a desktop notification (${cause}); is a notification service running?`);
          }
          resolve();
        },
      );
    });
  }
}
