/**
 * The details window: the state with its reason and what to do, the facts, the last 24 hours as a
 * timeline, the changes, the actions and the settings. It talks only to `window.keeper` (the
 * preload's bridge); everything it shows comes from the main process, as text, never as HTML.
 */
import { BarController, BarElement, Chart, LinearScale, CategoryScale, Tooltip } from 'chart.js';
import type { Action, DetailsState, KeeperBridge } from '../main/contract.ts';
import type { Settings } from '../main/session/settings.ts';

Chart.register(BarController, BarElement, LinearScale, CategoryScale, Tooltip);

declare global {
  interface Window {
    keeper: KeeperBridge;
  }
}

const COLOURS: Record<string, string> = {
  grey: '#8a8f98',
  green: '#2ea043',
  amber: '#d29922',
  orange: '#e8590c',
  red: '#d1242f',
  purple: '#8250df',
  hollow: '#c9ced6',
};
/** Colour names of the states, as the main process's table gives them. */
const STATE_COLOUR: Record<string, string> = {
  starting: 'grey', ready: 'green', 'not-authenticated': 'amber', reauthenticating: 'amber', competing: 'orange',
  'login-required': 'red', 'gateway-down': 'grey', 'rate-limited': 'purple', 'untrusted-certificate': 'red', paused: 'hollow', 'keeper-error': 'red',
};
const NOTIFICATION_LABELS: Record<string, string> = {
  drop: 'Session dropped', recovery: 'Session back', competing: 'Another login holds it', 'login-required': 'Login needed',
  'gateway-down': 'Gateway down', 'rate-limited': 'Rate limit', 'certificate-changed': 'Certificate changed', 'recovery-stopped': 'Recovery stopped',
};

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
let current: DetailsState | undefined;
let chart: Chart<'bar', [number, number][]> | undefined;
let formDirty = false;

function ago(iso: string | null, now: number): string {
  if (iso === null) return '—';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1_000));
  return s < 60 ? `${s} s ago` : `${Math.floor(s / 60)} min ${s % 60} s ago`;
}

function span(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1_000));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

function render(state: DetailsState): void {
  current = state;
  const { status, info } = state;
  const now = Date.now();
  $('state').dataset['colour'] = info.colour;
  $('state').dataset['state'] = status.state;
  $('title').textContent = info.title;
  $('reason').textContent = status.reason;
  $('advice').textContent = info.advice;
  const f = status.facts;
  $('fact-user').textContent = f.userName ?? '—';
  $('fact-account').textContent = f.account ?? '—';
  $('fact-server').textContent = f.serverName ? `${f.serverName}${f.serverVersion ? ` (${f.serverVersion})` : ''}` : '—';
  $('fact-tickle').textContent = ago(status.lastTickleAt, now);
  $('fact-latency').textContent = f.latencyMs !== undefined ? `${f.latencyMs} ms` : '—';
  const seen = status.lastTickleAt ? Date.parse(status.lastTickleAt) : now;
  $('fact-sso').textContent = f.ssoExpiresInMs !== undefined && status.state === 'ready' ? span(f.ssoExpiresInMs - (now - seen)) : '—';
  $('fact-next').textContent = status.nextCheckAt ? `in ${span(Date.parse(status.nextCheckAt) - now)}` : 'none scheduled';
  $('fact-gateway').textContent = status.gateway;
  const show = (action: Action, visible: boolean): void => void ((document.querySelector(`[data-action="${action}"]`) as HTMLElement).hidden = !visible);
  show('take-over', status.state === 'competing');
  show('pause', status.state !== 'paused');
  show('resume', status.state === 'paused');
  renderHistory(state);
  renderTimeline(state, now);
  renderTrust(state);
  if (!formDirty) fillSettings(state.settings);
  const problems = $('settings-problems');
  problems.replaceChildren(...state.settingsProblems.map((p) => Object.assign(document.createElement('li'), { textContent: p })));
}

function renderHistory(state: DetailsState): void {
  const rows = [...state.history].reverse().slice(0, 50).map((t) => {
    const tr = document.createElement('tr');
    const time = Object.assign(document.createElement('td'), { textContent: new Date(t.time).toLocaleString(), className: 'time' });
    const st = Object.assign(document.createElement('td'), { textContent: t.state, className: 'state' });
    st.dataset['colour'] = STATE_COLOUR[t.state] ?? 'grey';
    const why = Object.assign(document.createElement('td'), { textContent: t.reason });
    tr.append(time, st, why);
    return tr;
  });
  $('history').replaceChildren(...rows);
}

/** The last 24 hours: one coloured span per state, hours before now on the axis. */
function renderTimeline(state: DetailsState, now: number): void {
  const from = now - 86_400_000;
  const points = state.history.map((t) => ({ at: Math.max(from, Date.parse(t.time)), state: t.state }));
  if (points.length === 0 || points[points.length - 1]!.state !== state.status.state) points.push({ at: Math.max(from, Date.parse(state.status.since)), state: state.status.state });
  const hours = (t: number): number => (t - now) / 3_600_000;
  const datasets = points.map((p, i) => ({
    label: p.state,
    data: [[hours(p.at), hours(points[i + 1]?.at ?? now)]] as [number, number][],
    backgroundColor: COLOURS[STATE_COLOUR[p.state] ?? 'grey'],
    grouped: false,
    barPercentage: 1,
    categoryPercentage: 1,
  }));
  if (chart === undefined) {
    chart = new Chart($<HTMLCanvasElement>('timeline'), {
      type: 'bar',
      data: { labels: [''], datasets },
      options: {
        indexAxis: 'y',
        animation: false,
        maintainAspectRatio: false,
        scales: {
          x: { type: 'linear', min: -24, max: 0, ticks: { stepSize: 3, callback: (v) => (v === 0 ? 'now' : `${v} h`) } },
          y: { grid: { display: false } },
        },
        plugins: { tooltip: { callbacks: { label: (ctx) => ctx.dataset.label ?? '' } } },
      },
    });
  } else {
    chart.data.datasets = datasets;
    chart.update();
  }
}

function renderTrust(state: DetailsState): void {
  const t = state.trust;
  $('trust').textContent = t ? `SHA-256 ${t.fingerprint256} (${t.source === 'first-use' ? 'trusted on first use' : 'trusted by you'}, ${new Date(t.recordedAt).toLocaleString()})` : 'None yet: the gateway\'s certificate is trusted on first use.';
  $('forget').hidden = t === null;
  $('trust-notice').hidden = t?.notice === undefined;
  $('trust-notice').textContent = t?.notice ?? '';
  const presented = state.status.state === 'untrusted-certificate' ? state.status.facts.presentedFingerprint : undefined;
  $('presented').hidden = presented === undefined;
  $('presented-fp').textContent = presented ? `SHA-256 ${presented}` : '';
}

function fillSettings(settings: Settings): void {
  $<HTMLInputElement>('gateway').value = settings.gateway;
  $<HTMLInputElement>('interval').value = String(settings.intervalSeconds);
  $<HTMLInputElement>('launch').checked = settings.launchAtLogin === true;
  const box = $('notifications');
  if (box.querySelectorAll('input').length === 0) {
    for (const kind of Object.keys(settings.notifications)) {
      const label = Object.assign(document.createElement('label'), { className: 'check' });
      const input = Object.assign(document.createElement('input'), { type: 'checkbox', name: kind });
      input.dataset['kind'] = kind;
      label.append(input, ` ${NOTIFICATION_LABELS[kind] ?? kind}`);
      box.append(label);
    }
  }
  for (const input of box.querySelectorAll<HTMLInputElement>('input[data-kind]')) input.checked = settings.notifications[input.dataset['kind'] as keyof Settings['notifications']];
}

async function act(action: Action): Promise<void> {
  $('message').textContent = '…';
  const result = await window.keeper.invoke('keeper:act', { action });
  $('message').textContent = result.message;
}

async function saveSettings(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const interval = $<HTMLInputElement>('interval').value.trim();
  const notifications = Object.fromEntries([...document.querySelectorAll<HTMLInputElement>('#notifications input[data-kind]')].map((i) => [i.dataset['kind'], i.checked]));
  const change = {
    gateway: $<HTMLInputElement>('gateway').value,
    intervalSeconds: interval === '' || Number.isNaN(Number(interval)) ? interval : Number(interval),
    notifications,
    launchAtLogin: $<HTMLInputElement>('launch').checked,
  } as unknown as Partial<Settings>;
  const result = await window.keeper.invoke('settings:save', change);
  for (const field of ['gateway', 'intervalSeconds', 'launchAtLogin']) {
    const message = result.ok ? '' : (result.errors[field as keyof Settings] ?? '');
    $(`error-${field}`).textContent = message;
    const input = field === 'gateway' ? $('gateway') : field === 'intervalSeconds' ? $('interval') : $('launch');
    input.setAttribute('aria-invalid', String(message !== ''));
  }
  $('settings-message').textContent = result.ok ? 'Saved.' : 'Not saved: see the messages above.';
  $('settings-message').classList.toggle('bad', !result.ok);
  if (result.ok) formDirty = false;
}

function wire(): void {
  for (const button of document.querySelectorAll<HTMLButtonElement>('button[data-action]')) {
    button.addEventListener('click', () => {
      $('confirm-logout').hidden = true;
      void act(button.dataset['action'] as Action);
    });
  }
  $('logout').addEventListener('click', () => void ($('confirm-logout').hidden = false));
  $('cancel-logout').addEventListener('click', () => void ($('confirm-logout').hidden = true));
  $('settings').addEventListener('submit', (e) => void saveSettings(e as SubmitEvent));
  $('settings').addEventListener('input', () => void (formDirty = true));
  $('forget').addEventListener('click', async () => {
    const result = await window.keeper.invoke('trust:forget', null);
    $('message').textContent = result.message;
  });
  $('trust-new').addEventListener('click', async () => {
    const fingerprint256 = current?.status.facts.presentedFingerprint;
    if (fingerprint256 === undefined) return;
    const result = await window.keeper.invoke('trust:accept', { fingerprint256 });
    $('message').textContent = result.message;
  });
  window.keeper.onState(render);
  // Countdowns move between states.
  setInterval(() => current && render(current), 1_000);
}

wire();
void window.keeper.invoke('state:get', null).then(render);
