/**
 * Errors a user can act on: what happened and what to do, in one sentence. Front ends print
 * `message` as it is; `exitCode` is what the CLI exits with (2: a bad flag, URL or file).
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  readonly exitCode: number;

  constructor(message: string, exitCode = 2) {
    super(message);
    this.exitCode = exitCode;
  }
}
