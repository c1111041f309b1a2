/**
 * What the gateway's supervisor knows that polling cannot, passed on to the keeper: one mapping
 * for `watch --run-gateway` and the desktop app. The gateway gave up or failed: the reason of
 * `gateway-down`; it runs: nothing wrong. Its log (docs/gateway.md, "Its log") says a login
 * succeeded: check now, and forget a failed login it said before; says its login to IBKR failed:
 * that, added to the reason of the session's state, said once however often the gateway repeats it.
 */
import type { GatewayProblem } from '../session/keeper.ts';
import type { GatewaySupervisor } from './supervisor.ts';

export interface GatewayLinkTargets {
  /** The keeper's `setGatewayProblem` (undefined: nothing wrong that the supervisor knows of). */
  readonly problem: (problem: GatewayProblem | undefined) => void;
  /** A login succeeded: check the session now. */
  readonly login: () => void;
}

export function linkGateway(supervisor: GatewaySupervisor, targets: GatewayLinkTargets): void {
  /** The last log reason passed on: the gateway says "authentication to cp failed, retry N" up to 10 times. */
  let said: string | undefined;
  supervisor.on('state', (f) => {
    if (f.state === 'gave-up' || f.state === 'failed') {
      said = undefined;
      targets.problem(f.reason);
    } else if (f.state === 'running' || f.state === 'attached') {
      said = undefined;
      targets.problem(undefined);
    }
  });
  supervisor.on('gatewayLog', (event) => {
    if (event.kind === 'login') {
      said = undefined;
      targets.problem(undefined);
      targets.login();
    } else if (event.reason !== said) {
      said = event.reason;
      targets.problem({ log: event.reason });
    }
  });
}
