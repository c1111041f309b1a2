/**
 * When to tell the user, and in which words: the moment the session drops, when it comes back,
 * when another login holds it, when a login is needed, when the gateway stays down, when its
 * certificate changes. Nothing on a clean start; flapping never spams (one of a kind per 10 min,
 * and "back" only after a "dropped"). Pure: fed every status, it returns what to show now.
 */
import type { KeeperStatus } from './keeper.ts';
import type { SessionState } from './states.ts';

export const NOTIFICATION_KINDS = [
  'drop',
  'recovery',
  'competing',
  'login-required',
  'gateway-down',
  'rate-limited',
  'certificate-changed',
  'recovery-stopped',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export interface Notification {
  readonly kind: NotificationKind;
  readonly title: string;
  readonly message: string;
  readonly state: SessionState;
  /** The gateway, for "Open login page" where the platform reports clicks. */
  readonly gateway: string;
}

export interface NotificationPolicyOptions {
  /** One notification of a kind per this long (certificate changes always show). */
  readonly cooldownMs?: number;
  /** The gateway must stay down this long before it is worth a notification. */
  readonly gatewayDownAfterMs?: number;
  /** Kinds the user turned off. */
  readonly disabled?: readonly NotificationKind[];
}

const PROBLEMS = new Set<NotificationKind>([
  'drop',
  'competing',
  'login-required',
  'gateway-down',
  'rate-limited',
  'certificate-changed',
  'recovery-stopped',
]);

export class NotificationPolicy {
  readonly #cooldownMs: number;
  readonly #downAfterMs: number;
  readonly #disabled: Set<NotificationKind>;
  #last: SessionState = 'starting';
  #problemShown = false;
  #downSince: number | undefined;
  #downShown = false;
  #stoppedShown = false;
  readonly #shownAt = new Map<NotificationKind, number>();

  constructor(options: NotificationPolicyOptions = {}) {
    this.#cooldownMs = options.cooldownMs ?? 600_000;
    this.#downAfterMs = options.gatewayDownAfterMs ?? 60_000;
    this.#disabled = new Set(options.disabled ?? []);
  }

  /** Feeds one status at monotonic time `now`; returns the notifications to show. */
  update(status: KeeperStatus, now: number): Notification[] {
    const out: Notification[] = [];
    const say = (kind: NotificationKind, title: string, message: string): void => {
      const last = this.#shownAt.get(kind);
      if (kind !== 'certificate-changed' && last !== undefined && now - last < this.#cooldownMs) return;
      this.#shownAt.set(kind, now);
      if (this.#disabled.has(kind)) return;
      // "Back" pairs with a problem the user was actually told of.
      if (PROBLEMS.has(kind)) this.#problemShown = true;
      out.push({ kind, title, message, state: status.state, gateway: status.gateway });
    };
    const { state, reason } = status;
    const previous = this.#last;
    this.#last = state;
    if (state !== previous) {
      if (state !== 'gateway-down') {
        this.#downSince = undefined;
        this.#downShown = false;
      }
      if (state === 'ready' || state === 'competing') this.#stoppedShown = false;
      switch (state) {
        case 'ready':
          if (this.#problemShown) say('recovery', 'IBKR session is back', `${reason} The keeper keeps it alive.`);
          this.#problemShown = false;
          break;
        case 'not-authenticated':
        case 'reauthenticating':
          if (previous === 'ready') say('drop', 'IBKR session dropped', `${reason} Reauthenticating now.`);
          break;
        case 'competing':
          say(
            'competing',
            'Another login holds your IBKR session',
            `${reason} The keeper will not take it over unless you choose "Take over".`,
          );
          break;
        case 'login-required':
          say(
            'login-required',
            'IBKR login needed',
            /log in/.test(reason) ? reason : `${reason} Open ${status.gateway} in a browser and log in.`,
          );
          break;
        case 'gateway-down':
          this.#downSince = now;
          break;
        case 'rate-limited':
          say('rate-limited', 'IBKR gateway rate limit', reason);
          break;
        case 'untrusted-certificate':
          say(
            'certificate-changed',
            "IBKR gateway's certificate changed",
            `${status.gateway} presents another certificate; nothing was sent to it. Check its fingerprint ` +
              `(ibkr-keeper trust) and trust it only if you reinstalled the gateway.`,
          );
          break;
        default:
          break;
      }
    }
    if (
      state === 'gateway-down' &&
      !this.#downShown &&
      this.#downSince !== undefined &&
      now - this.#downSince >= this.#downAfterMs
    ) {
      this.#downShown = true;
      say('gateway-down', 'IBKR gateway unreachable', reason);
    }
    if (state === 'not-authenticated' && !this.#stoppedShown && /stopped reauthenticating/.test(reason)) {
      this.#stoppedShown = true;
      say('recovery-stopped', 'IBKR session not recovered', reason);
    }
    return out;
  }
}
