/**
 * Errors a user can act on: what happened and what to do, in one sentence. Front ends print
 * `message` as it is; `exitCode` is what the CLI exits with (2: a bad flag, URL or file).
 */

/**
 * What makes an error a UserError for `instanceof`: the CLI runs from one bundled file and loads
 * the simulator and the demo on demand from their own modules, so two copies of this class meet.
 */
const USER_ERROR = Symbol.for('ibkr-session-keeper.UserError');

export class UserError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as { [USER_ERROR]?: unknown })[USER_ERROR] === true;
  }

  override readonly name = 'UserError';
  readonly exitCode: number;
  readonly [USER_ERROR] = true;

  constructor(message: string, exitCode = 2) {
    super(message);
    this.exitCode = exitCode;
  }
}
