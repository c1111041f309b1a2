/**
 * One check of the session, as `ibkr-keeper status` makes it: the brokerage auth status, then the
 * SSO validation when the pacer allows it (else what the last one answered), classified.
 */
import { classify, type Check, type Classification } from './classify.ts';
import type { GatewayClient } from './gateway-client.ts';
import type { Observation } from './observation.ts';

/** Checks the session with at most two requests, never breaking a rate limit. */
export async function checkSession(client: GatewayClient): Promise<Classification> {
  const authStatus = await client.authStatus();
  const check: Check = { authStatus };
  const first = classify(check, client.address.origin);
  if (first.askValidate) {
    // A 401 that may mean a dropped brokerage session or an ended login: only a fresh answer tells.
    return classify({ ...check, validate: await client.validate() }, client.address.origin);
  }
  if (authStatus.kind === 'answer' || authStatus.kind === 'gateway-error') {
    return classify({ ...check, validate: await validateOrRecall(client) }, client.address.origin);
  }
  return first;
}

/**
 * `/sso/validate`, remembered for later runs; when it was asked less than a minute ago, the
 * remembered answer stands in for it (IBKR allows one a minute).
 */
export async function validateOrRecall(client: GatewayClient): Promise<Observation<'validate'>> {
  const validate = await client.validate();
  if (validate.kind === 'answer') client.pacer.rememberSso(validate.body);
  if (validate.kind === 'not-sent' && validate.reason === 'too-soon') {
    const memory = client.pacer.recallSso();
    if (memory !== undefined) {
      const { at: _at, ...body } = memory;
      return { kind: 'answer', endpoint: 'validate', status: 200, body, latencyMs: 0 };
    }
  }
  return validate;
}
