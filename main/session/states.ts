/**
 * The session states (docs/design.md): one union and one table from state to colour, words and exit
 * code. Front ends read this table instead of keeping `if` ladders of their own.
 */

/** Every state the keeper can be in. The names are a public interface: keep them. */
export const SESSION_STATES = [
  'starting',
  'ready',
  'not-authenticated',
  'reauthenticating',
  'competing',
  'login-required',
  'gateway-down',
  'rate-limited',
  'untrusted-certificate',
  'paused',
  'keeper-error',
] as const;

export type SessionState = (typeof SESSION_STATES)[number];

/** What a front end needs to show a state. */
export interface StateInfo {
  /** Tray colour name (docs/design.md). */
  readonly colour: 'grey' | 'green' | 'amber' | 'orange' | 'red' | 'purple' | 'hollow';
  /** A short title for a person: "Connected", "Logged out". */
  readonly title: string;
  /** What the user can do about it, in one sentence; empty when nothing is needed. */
  readonly advice: string;
  /** Exit code of `ibkr-keeper status` in this state (0 only for `ready`). */
  readonly exitCode: number;
}

/** The table. Exit codes are documented in the README and are a public interface. */
export const STATE_INFO: Readonly<Record<SessionState, StateInfo>> = {
  starting: { colour: 'grey', title: 'Starting', advice: '', exitCode: 1 },
  ready: { colour: 'green', title: 'Session ready', advice: '', exitCode: 0 },
  'not-authenticated': {
    colour: 'amber',
    title: 'Brokerage session not authenticated',
    advice:
      'Reauthenticate (ibkr-keeper reauth, or Reauthenticate in the app); if the login has ended too, log in ' +
      'again in a browser.',
    exitCode: 3,
  },
  reauthenticating: {
    colour: 'amber',
    title: 'Reauthenticating',
    advice: 'Wait a few seconds while the gateway logs in again.',
    exitCode: 3,
  },
  competing: {
    colour: 'orange',
    title: 'Another login holds the session',
    advice:
      'Close the other login, or take the session over explicitly (Take over in the app; ibkr-keeper reauth ' +
      '--take-over).',
    exitCode: 4,
  },
  'login-required': {
    colour: 'red',
    title: 'Login required',
    advice: "Log in on the gateway's login page (Log in in the app; ibkr-keeper login opens it in a browser).",
    exitCode: 5,
  },
  'gateway-down': {
    colour: 'grey',
    title: 'Gateway unreachable',
    advice:
      'Check what the reason names: the gateway at this address, its allow list, its link to IBKR (ibkr-keeper ' +
      'doctor checks each).',
    exitCode: 6,
  },
  'rate-limited': {
    colour: 'purple',
    title: 'Rate-limited by the gateway',
    advice: 'Send nothing for 10 minutes; stop other programs that flood the gateway.',
    exitCode: 7,
  },
  'untrusted-certificate': {
    colour: 'red',
    title: "Gateway's certificate changed",
    advice:
      'Trust a new certificate only if you know why it changed, e.g. you reinstalled the gateway (in the app: ' +
      'Trust this certificate; headless: ibkr-keeper trust accept).',
    exitCode: 8,
  },
  paused: { colour: 'hollow', title: 'Paused', advice: 'Resume keeping alive when you want it back.', exitCode: 9 },
  'keeper-error': {
    colour: 'red',
    title: 'Cannot keep the session',
    advice:
      'Fix what the reason names (a file in the config folder, its permissions, the system); the keeper tries ' +
      'again at every interval.',
    exitCode: 10,
  },
};
