/**
 * When the window offers its first-run step, which asks for the gateway's folder (or says how to
 * get IBKR's gateway): no folder is set, the person has not said "I run the gateway myself", and
 * no gateway answers at the configured address. "No gateway answers" is what the engine already
 * knows, nothing guessed: the keeper's state is `gateway-down`, and the address's port on this
 * computer completes no TLS handshake (main/gateway/port.ts; a gateway that answers 5xx or Access
 * Denied is there, and needs no folder). A remote address never gets the step: its gateway runs
 * elsewhere.
 */
import { probePort } from '../gateway/port.ts';
import type { KeeperStatus } from '../session/keeper.ts';
import type { GatewayAddress } from '../session/gateway-client.ts';
import type { Settings } from '../session/settings.ts';

/** The port is probed at most this often while the keeper says the gateway is down. */
export const PROBE_EVERY_MS = 5_000;

export interface FirstRunDeps {
  /** Monotonic milliseconds. */
  readonly now: () => number;
  /** The step appeared or went away. */
  readonly onChange: () => void;
  /** What listens on a loopback port (default main/gateway/port.ts). */
  readonly probe?: (port: number) => Promise<string>;
}

export class FirstRunStep {
  readonly #deps: FirstRunDeps;
  /** The address nothing answers at (the step is shown), or undefined. */
  #shown: string | undefined;
  #probedAt = Number.NEGATIVE_INFINITY;
  #probing = false;
  /** Bumped when the inputs change, so a probe that ends late is not taken for the new ones. */
  #generation = 0;
  #key = '';

  constructor(deps: FirstRunDeps) {
    this.#deps = deps;
  }

  /** The step for the window, or null when it is not shown. */
  state(): { readonly address: string } | null {
    return this.#shown === undefined ? null : { address: this.#shown };
  }

  /** Follows the settings and the keeper: after each of its checks, and after each save of settings. */
  update(
    settings: Pick<Settings, 'gatewayDir' | 'gatewaySetupDismissed'>,
    address: GatewayAddress,
    status: KeeperStatus,
  ): void {
    const wanted =
      settings.gatewayDir === null &&
      !settings.gatewaySetupDismissed &&
      address.loopback &&
      status.state === 'gateway-down';
    const key = JSON.stringify([wanted, address.origin]);
    if (key !== this.#key) {
      this.#key = key;
      this.#generation += 1;
      this.#probedAt = Number.NEGATIVE_INFINITY;
    }
    if (!wanted) return this.#set(undefined);
    if (this.#probing || this.#deps.now() - this.#probedAt < PROBE_EVERY_MS) return;
    this.#probing = true;
    this.#probedAt = this.#deps.now();
    const generation = this.#generation;
    void (this.#deps.probe ?? probePort)(address.port)
      .catch(() => 'unknown')
      .then((found) => {
        this.#probing = false;
        if (generation === this.#generation) this.#set(found === 'tls' ? undefined : address.origin);
      });
  }

  #set(shown: string | undefined): void {
    if (shown === this.#shown) return;
    this.#shown = shown;
    this.#deps.onChange();
  }
}
