/**
 * The Settings form: filled from the main process's settings unless the person is editing it;
 * refused values shown next to their field (aria-describedby, aria-invalid), the first one focused.
 * Launch at login is sent only when the person changed it, so an undecided null stays undecided.
 */
import type { Settings } from '../main/session/settings.ts';
import { $, ask, el, setText } from './dom.ts';

const NOTIFICATION_LABELS: Record<string, string> = {
  drop: 'Drops',
  recovery: 'Recoveries',
  competing: 'Another login',
  'login-required': 'Login needed',
  'gateway-down': 'Gateway down',
  'rate-limited': 'Rate limits',
  'certificate-changed': 'New certificate',
  'recovery-stopped': 'Recovery given up',
};
/** The person changed the form since it was filled or saved. */
let dirty = false;
/** Launch at login is sent only when the person changed it: undecided (null) stays undecided. */
let launchTouched = false;
const FIELDS = {
  gateway: 'gateway',
  gatewayDir: 'gatewayDir',
  runGateway: 'runGateway',
  leaveGatewayRunning: 'leaveGatewayRunning',
  intervalSeconds: 'interval',
  launchAtLogin: 'launch',
  notifications: 'notifications',
} as const;

/** True while the person edits the form: the main process's settings do not overwrite it. */
export const editing = (): boolean => dirty;

/** A field's message (empty: none), tied to it by aria-describedby and aria-invalid. */
export function fieldError(field: keyof typeof FIELDS, message: string): void {
  setText($(`error-${field}`), message);
  $(FIELDS[field]).setAttribute('aria-invalid', String(message !== ''));
}

/**
 * "Choose…" beside the gateway folder: the folder dialog, then the folder's check, in the field
 * (its message tied to it). Nothing is saved until the person saves the settings.
 */
async function chooseFolder(): Promise<void> {
  const input = $<HTMLInputElement>('gatewayDir');
  const defaultPath = input.value.trim() === '' ? null : input.value.trim();
  const choice = await ask('gateway:choose-folder', { defaultPath }, "choose the gateway's folder");
  if (choice === undefined || !choice.chosen) return;
  input.value = choice.dir;
  dirty = true;
  fieldError('gatewayDir', choice.ok ? '' : choice.message);
  setText($('note-gatewayDir'), choice.ok ? `${choice.message} Save the settings to keep it.` : '');
  // A wrong folder: the focus on the field, whose message is read out with it.
  if (!choice.ok) input.focus();
}

/** The gateway's folder and "Run the gateway with the app" as saved elsewhere (the first-run step). */
export function fillGatewayFields(settings: Settings): void {
  $<HTMLInputElement>('gatewayDir').value = settings.gatewayDir ?? '';
  $<HTMLInputElement>('runGateway').checked = settings.runGateway;
  fieldError('gatewayDir', '');
}

export function fillSettings(settings: Settings): void {
  $<HTMLInputElement>('gateway').value = settings.gateway;
  $<HTMLInputElement>('gatewayDir').value = settings.gatewayDir ?? '';
  $<HTMLInputElement>('runGateway').checked = settings.runGateway;
  $<HTMLInputElement>('leaveGatewayRunning').checked = settings.leaveGatewayRunning;
  $<HTMLInputElement>('interval').value = String(settings.intervalSeconds);
  const launch = $<HTMLInputElement>('launch');
  launch.checked = settings.launchAtLogin === true;
  launch.indeterminate = settings.launchAtLogin === null;
  launchTouched = false;
  setText(
    $('hint-launch'),
    settings.launchAtLogin === null
      ? 'Not decided yet: it turns on after the first successful session, unless you decide now.'
      : '',
  );
  const box = $('notifications');
  if (box.querySelectorAll('input').length === 0) {
    for (const kind of Object.keys(settings.notifications)) {
      const input = el('input', { type: 'checkbox', name: kind });
      input.dataset['kind'] = kind;
      const label = el('label', { className: 'check' });
      label.append(input, ` ${NOTIFICATION_LABELS[kind] ?? kind}`);
      box.append(label);
    }
  }
  for (const input of box.querySelectorAll<HTMLInputElement>('input[data-kind]'))
    input.checked = settings.notifications[input.dataset['kind'] as keyof Settings['notifications']];
}

async function save(event: SubmitEvent, saved: (settings: Settings) => void): Promise<void> {
  event.preventDefault();
  const interval = $<HTMLInputElement>('interval').value.trim();
  const change: Record<string, unknown> = {
    gateway: $<HTMLInputElement>('gateway').value,
    // An empty field: no folder.
    gatewayDir:
      $<HTMLInputElement>('gatewayDir').value.trim() === '' ? null : $<HTMLInputElement>('gatewayDir').value.trim(),
    runGateway: $<HTMLInputElement>('runGateway').checked,
    leaveGatewayRunning: $<HTMLInputElement>('leaveGatewayRunning').checked,
    intervalSeconds: interval === '' || Number.isNaN(Number(interval)) ? interval : Number(interval),
    notifications: Object.fromEntries(
      [...document.querySelectorAll<HTMLInputElement>('#notifications input[data-kind]')].map((i) => [
        i.dataset['kind'],
        i.checked,
      ]),
    ),
  };
  if (launchTouched) change['launchAtLogin'] = $<HTMLInputElement>('launch').checked;
  setText($('settings-message'), 'Saving.');
  const result = await ask('settings:save', change as Partial<Settings>, 'save the settings');
  if (result === undefined) return setText($('settings-message'), 'Not saved.');
  let first: HTMLElement | undefined;
  for (const [field, id] of Object.entries(FIELDS)) {
    const message = result.ok ? '' : (result.errors[field as keyof Settings] ?? '');
    fieldError(field as keyof typeof FIELDS, message);
    if (message !== '') first ??= $(id);
  }
  setText($('settings-message'), result.ok ? 'Saved.' : 'Not saved: see the messages above.');
  if (result.ok) setText($('note-gatewayDir'), '');
  $('settings-message').classList.toggle('bad', !result.ok);
  if (result.ok) {
    dirty = false;
    saved(result.settings);
  } else {
    // The first refused field, with its message read out (aria-describedby).
    (first?.querySelector('input') ?? first)?.focus();
  }
}

/** Wires the form; `saved` gets the settings the main process kept. */
export function wireSettings(saved: (settings: Settings) => void): void {
  $('settings').addEventListener('submit', (e) => void save(e as SubmitEvent, saved));
  $('settings').addEventListener('input', () => void (dirty = true));
  $('launch').addEventListener('change', () => void (launchTouched = true));
  $('choose-gatewayDir').addEventListener('click', () => void chooseFolder());
}
