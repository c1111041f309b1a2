/**
 * IBKR's gateway in the Status view: the first-run step (no gateway folder set and no gateway
 * answering: choose the folder, or say "I run the gateway myself", or how to get the gateway),
 * and the gateway's process (state, pid, since, restarts, build, Java) with "Show gateway log".
 */
import type { DetailsState } from '../main/contract.ts';
import { $, ask, say, setText } from './dom.ts';
import { fillGatewayFields } from './settings.ts';

/** The first-run step: shown while the main process says so (DetailsState.gatewaySetup). */
export function renderSetup(state: DetailsState): void {
  const setup = state.gatewaySetup;
  $('setup').hidden = setup === null;
  setText($('setup-address'), setup?.address ?? '');
}

/** Where the step's answer goes: its own message line, tied to "Choose folder…". */
const stepError = (message: string): void => setText($('setup-error'), message);

/** Choose folder…: the dialog, the folder's check, then the folder saved with "Run the gateway with the app". */
async function chooseInStep(): Promise<void> {
  stepError('');
  const choice = await ask('gateway:choose-folder', { defaultPath: null }, "choose the gateway's folder");
  if (choice === undefined || !choice.chosen) return;
  if (!choice.ok) {
    stepError(choice.message);
    return $('setup-choose').focus();
  }
  const runGateway = $<HTMLInputElement>('setup-run').checked;
  const saved = await ask('settings:save', { gatewayDir: choice.dir, runGateway }, 'save the gateway folder');
  if (saved === undefined) return;
  if (!saved.ok) return stepError(Object.values(saved.errors).join(' '));
  fillGatewayFields(saved.settings);
  say(
    `Saved: the gateway's folder is ${choice.dir}. ` +
      (runGateway
        ? 'The app starts the gateway now; Settings has the rest.'
        : 'Turn on "Run the gateway with the app" in Settings to have the app start it.'),
  );
}

/** "I run the gateway myself": the step is not shown again (the setting gatewaySetupDismissed). */
async function dismiss(): Promise<void> {
  const saved = await ask('settings:save', { gatewaySetupDismissed: true }, 'dismiss the gateway step');
  if (saved === undefined) return;
  if (!saved.ok) return stepError(Object.values(saved.errors).join(' '));
  say("Not asked again. Settings has the gateway's folder, whenever you want the app to run the gateway.");
}

const capital = (s: string): string => `${s[0]?.toUpperCase() ?? ''}${s.slice(1)}`;
/** `Mon, 24 Apr 2023 15:41:53 -0400` (the gateway's banner) as a date in the person's locale. */
const day = (text: string): string => {
  const time = Date.parse(text);
  return Number.isNaN(time) ? text : new Date(time).toLocaleDateString();
};

/** The gateway's process, where the app knows the gateway's folder: what it does, its facts, its log. */
export function renderProcess(state: DetailsState): void {
  const g = state.gateway;
  const log = state.gatewayLog;
  $('process').hidden = g === null && !log.shown;
  setText(
    $('process-state'),
    g === null
      ? 'Not run by the app (Settings: "Run the gateway with the app").'
      : `${capital(g.state.replace('-', ' '))}: ${g.reason}.`,
  );
  const since = g?.startedAt === undefined ? undefined : `since ${new Date(g.startedAt).toLocaleString()}`;
  const restarts =
    g === null ? undefined : g.restarts === 0 ? 'no restarts' : `${g.restarts} restart${g.restarts === 1 ? '' : 's'}`;
  const pid = g?.pid === undefined ? [] : [`pid ${g.pid}`, since, restarts].filter((p) => p !== undefined);
  $('process-pid').hidden = $('process-pid-label').hidden = pid.length === 0;
  setText($('process-pid'), pid.join(', '));
  const build = [
    g?.build === undefined ? undefined : `${g.build}${g.buildDate === undefined ? '' : ` of ${day(g.buildDate)}`}`,
    g?.javaVersion === undefined ? undefined : `Java ${g.javaVersion}`,
  ].filter((p) => p !== undefined);
  $('process-build').hidden = $('process-build-label').hidden = build.length === 0;
  setText($('process-build'), build.join(', '));
  const button = $<HTMLButtonElement>('show-gateway-log');
  button.disabled = log.file === null;
  button.title = log.file ?? '';
  setText($('gateway-log-why'), log.file === null ? (log.why ?? '') : '');
}

async function showLog(): Promise<void> {
  const result = await ask('gateway:show-log', null, 'show the gateway log');
  if (result) say(result.message, !result.ok);
}

export function wireGateway(): void {
  $('setup-choose').addEventListener('click', () => void chooseInStep());
  $('setup-dismiss').addEventListener('click', () => void dismiss());
  $('show-gateway-log').addEventListener('click', () => void showLog());
}
