/**
 * The one-shot commands, one per session endpoint: `status`, `tickle`, `validate`, `reauth`,
 * `logout`. Each prints one line (or one JSON object) and exits with the state's code.
 */
import type { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkSession, validateOrRecall } from '../../session/check.ts';
import { resolveConfigDir } from '../../session/config-dir.ts';
import { classify, type Classification } from '../../session/classify.ts';
import type { GatewayClient } from '../../session/gateway-client.ts';
import type { Observation } from '../../session/observation.ts';
import { POLICY } from '../../session/policy.ts';
import { redactBody } from '../../session/redact.ts';
import { STATE_INFO } from '../../session/states.ts';
import { publiclyKnownNotice } from '../../session/tls.ts';
import {
  checkGatewayConf,
  describe,
  formatDuration,
  gatewayOptions,
  makeClient,
  report,
  type GatewayOptions,
} from '../context.ts';

type Run = (options: GatewayOptions & Record<string, unknown>) => Promise<number>;

/** Runs a command with a client, closing it afterwards; the exit code is set, not forced. */
function withClient(
  body: (client: GatewayClient, options: GatewayOptions & Record<string, unknown>) => Promise<number>,
): Run {
  return async (options) => {
    const client = makeClient(options);
    try {
      await checkGatewayConf(options.gatewayDir);
      return await body(client, options);
    } finally {
      await client.close();
    }
  };
}

/** The body of an answer, for `--json` (redacted on printing). */
function answerOf(o: Observation): Record<string, unknown> {
  return o.kind === 'answer' ? { answer: o.body } : o.kind === 'gateway-error' ? { answer: { error: o.error } } : {};
}

export function registerSessionCommands(program: Command, exit: (code: number) => void): void {
  const action = (run: Run) => async (options: GatewayOptions & Record<string, unknown>) => exit(await run(options));

  gatewayOptions(
    program
      .command('status')
      .description('check the session once: auth status, and the login when IBKR allows (exit 0 only when ready)'),
  ).action(
    action(
      withClient(async (client, options) => {
        const result = await checkSession(client);
        const fingerprint256 = client.trustedFingerprint();
        const notice = publiclyKnownNotice(fingerprint256, options.gatewayDir);
        const certificate =
          fingerprint256 === undefined
            ? null
            : { fingerprint256, publiclyKnown: notice !== undefined, ...(notice ? { notice } : {}) };
        // The gateway ibkr-keeper runs with this config folder, if any: pid, since, restarts, build, logs.
        const gatewayProcess =
          options.json && client.address.loopback
            ? await (await import('../../gateway/process-facts.ts')).recordedGatewayFacts(
                resolveConfigDir(options.configDir),
                client.address.port,
              )
            : null;
        return report(result, options, { certificate, gatewayProcess });
      }),
    ),
  );

  gatewayOptions(
    program.command('tickle').description('keep the session open once (POST /tickle) and say what it reported'),
  ).action(
    action(
      withClient(async (client, options) => {
        const tickle = await client.tickle();
        let result = classify({ tickle }, client.address.origin);
        // `{"error":"no session"}` leaves competing or not unclear: the auth status tells.
        if (result.unclear) result = classify({ tickle, authStatus: await client.authStatus() }, client.address.origin);
        return report(result, options, answerOf(tickle));
      }),
    ),
  );

  gatewayOptions(
    program.command('validate').description('validate the login (GET /sso/validate; IBKR allows one a minute)'),
  ).action(
    action(
      withClient(async (client, options) => {
        const validate = await client.validate();
        if (validate.kind === 'answer') client.pacer.rememberSso(validate.body);
        if (validate.kind === 'not-sent' && validate.reason === 'too-soon') {
          const reason =
            `/sso/validate was asked less than a minute ago and IBKR allows one a minute; try ` +
            `again in ${formatDuration(validate.retryAfterMs)}.`;
          return print(options, `not sent: ${reason}`, { sent: false, reason, retryAfterMs: validate.retryAfterMs }, 7);
        }
        const result = classify({ authStatus: await client.authStatus(), validate }, client.address.origin);
        const valid = validate.kind === 'answer' && validate.body.RESULT;
        if (options.json) {
          report(result, options, { valid, ...answerOf(validate) });
        } else {
          const { userName, account, ssoExpiresInMs } = result.facts;
          const user = userName ? ` for ${userName}${account ? ` (${account})` : ''}` : '';
          const expires = ssoExpiresInMs !== undefined ? `, refreshed within ${formatDuration(ssoExpiresInMs)}` : '';
          const verdict = valid
            ? `login valid${user}${expires}`
            : validate.kind === 'answer' || is401(validate)
              ? 'login not valid'
              : 'login not checked (no answer)';
          process.stdout.write(`${verdict}; ${describe(result)}\n`);
        }
        // 0 only for a valid login; an invalid one while the session works is still a login problem.
        if (valid) return 0;
        return result.state === 'ready' ? STATE_INFO['login-required'].exitCode : STATE_INFO[result.state].exitCode;
      }),
    ),
  );

  gatewayOptions(
    program
      .command('reauth')
      .description('reauthenticate the brokerage session (the login must still be valid) and wait until it is ready')
      .option('--no-wait', 'return as soon as the gateway says "triggered"')
      .option(
        '--take-over',
        'take the session over from another login (TWS, mobile, another gateway): that login ends',
      ),
  ).action(
    action(
      withClient(async (client, options) => {
        if (options['takeOver'] !== true) {
          // The gateway's own login competes: a plain reauthentication would end another login
          // (the user's TWS) as surely as a takeover. Only --take-over may do that.
          const before = classify({ authStatus: await client.authStatus() }, client.address.origin);
          if (before.state === 'competing') {
            const reason =
              `${before.reason} Nothing was sent: reauthenticating would end that login. To take ` +
              `the session over, run ibkr-keeper reauth --take-over.`;
            return report({ ...before, reason }, options);
          }
        }
        const trigger = options['takeOver'] === true ? await client.ssoInit(true) : await client.reauthenticate();
        if (trigger.kind !== 'answer')
          return report(classify({ reauth: trigger }, client.address.origin), options, answerOf(trigger));
        if (options['wait'] === false) {
          const reason = 'The gateway started logging in again; `ibkr-keeper status` tells when it is ready.';
          return print(
            options,
            `reauthenticating: ${reason}`,
            { state: 'reauthenticating', reason, ...answerOf(trigger) },
            0,
          );
        }
        if (!options.json)
          process.stderr.write('reauthenticating: waiting for the gateway to log in again (up to 60 s)...\n');
        return report(await followReauth(client, options['takeOver'] === true), options, answerOf(trigger));
      }),
    ),
  );

  gatewayOptions(
    program
      .command('logout')
      .description('end the gateway session (POST /logout); log in again in a browser afterwards'),
  ).action(
    action(
      withClient(async (client, options) => {
        const logout = await client.logout();
        if (logout.kind !== 'answer')
          return report(classify({ other: logout }, client.address.origin), options, answerOf(logout));
        if ((logout.body.status ?? logout.body.confirmed) !== true) {
          const reason = 'The gateway did not confirm the logout; check with `ibkr-keeper status`.';
          return print(
            options,
            `logout not confirmed: ${reason}`,
            { loggedOut: false, reason, ...answerOf(logout) },
            1,
          );
        }
        const reason = `The gateway session has ended; open ${client.address.origin} in a browser to log in again.`;
        return print(options, `logged out: ${reason}`, { loggedOut: true, reason, ...answerOf(logout) }, 0);
      }),
    ),
  );
}

/** Prints a line, or with `--json` one object with the time; returns `code`. */
function print(options: GatewayOptions, line: string, json: Record<string, unknown>, code: number): number {
  process.stdout.write(
    `${options.json ? JSON.stringify(redactBody({ time: new Date().toISOString(), ...json })) : line}\n`,
  );
  return code;
}

/**
 * Polls the auth status as the keeper does (every 2 s for up to 60 s) after a reauthentication was triggered, until
 * the session is ready or the gateway says it failed. While taking over, `competing` is expected
 * until the other login is out.
 */
export async function followReauth(client: GatewayClient, takingOver = false): Promise<Classification> {
  const deadline = performance.now() + POLICY.reauthPollForMs;
  let result: Classification;
  do {
    await sleep(POLICY.reauthPollMs);
    result = classify({ authStatus: await client.authStatus() }, client.address.origin);
    if (result.state === 'ready')
      return classify(
        { authStatus: await client.authStatus(), validate: await validateOrRecall(client) },
        client.address.origin,
      );
    const waiting = result.state === 'not-authenticated' || (takingOver && result.state === 'competing');
    if (!waiting || result.facts.fail) return result;
  } while (performance.now() < deadline);
  return { ...result, reason: `${result.reason} The gateway has not logged in again within 60 s.` };
}

/** A 401 of `/sso/validate`: nobody is logged in. */
function is401(o: Observation): boolean {
  return (o.kind === 'http-error' || o.kind === 'gateway-error') && o.status === 401;
}
