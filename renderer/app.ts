/**
 * The details window: the state always on top (announced when it changes), then three views as
 * tabs: Status (what to do, actions, facts, the last 24 hours), History and Settings. It talks
 * only to `window.keeper` (the preload's bridge) and shows everything as text, never as HTML.
 * Each part is redrawn only when what it shows changed, so focus, selection and what a screen
 * reader is reading stay put; only the countdowns move every second.
 */
import { controlsFor, type Action, type DetailsState, type InvokeChannel, type InvokeContract, type KeeperBridge } from '../main/contract.ts';
import { stateHex } from '../main/session/palette.ts';
import type { Settings } from '../main/session/settings.ts';
import { STATE_INFO, type SessionState } from '../main/session/states.ts';
import { ago, span, timeline, timelineSummary, when, DAY_MS } from './format.ts';

declare global {
  interface Window {
    keeper: KeeperBridge;
  }
}

const NOTIFICATION_LABELS: Record<string, string> = {
  drop: 'Drops', recovery: 'Recoveries', competing: 'Another login', 'login-required': 'Login needed',
  'gateway-down': 'Gateway down', 'rate-limited': 'Rate limits', 'certificate-changed': 'New certificate', 'recovery-stopped': 'Recovery given up',
};
/** The button that does what a state asks for, shown first and emphasised. */
const PRIMARY: Partial<Record<SessionState, Action>> = {
  competing: 'take-over', 'login-required': 'open-login-page', 'not-authenticated': 'reauthenticate', paused: 'resume',
};
/** How long an answer may take before the window says it has none (a slow gateway takes up to ~30 s). */
const ANSWER_TIMEOUT_MS = 45_000;

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const el = <K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}): HTMLElementTagNameMap[K] => Object.assign(document.createElement(tag), props);
const title = (state: SessionState): string => STATE_INFO[state].title;

let current: DetailsState | undefined;
/** What each part shows now, to redraw it only when that changes. */
const shown = new Map<string, string>();
const changed = (part: string, value: unknown): boolean => {
  const key = JSON.stringify(value);
  if (shown.get(part) === key) return false;
  shown.set(part, key);
  return true;
};
const setText = (node: HTMLElement, text: string): void => {
  if (node.textContent !== text) node.textContent = text;
};

// ---- talking to the main process: every failure is said, nothing waits forever ------------------

function say(text: string, bad = false): void {
  $('message').textContent = text;
  $('message').classList.toggle('bad', bad);
}

/** One request; a rejection or a missing answer becomes a message that says what failed. */
async function ask<C extends InvokeChannel>(channel: C, request: InvokeContract[C]['request'], doing: string): Promise<InvokeContract[C]['response'] | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer after ${ANSWER_TIMEOUT_MS / 1_000} s`)), ANSWER_TIMEOUT_MS);
  });
  try {
    return await Promise.race([window.keeper.invoke(channel, request), timeout]);
  } catch (error) {
    const why = (error instanceof Error ? error.message : String(error)).replace(/^Error invoking remote method '[^']+': (Error: )?/, '');
    say(`Could not ${doing}: ${why}. The keeper goes on; try again, or restart the app if this persists.`, true);
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

let busy = false;
async function act(action: Action, label: string): Promise<void> {
  if (busy) return;
  busy = true;
  $('actions').setAttribute('aria-busy', 'true');
  say(`${label}: asking the keeper.`);
  const result = await ask('keeper:act', { action }, label.toLowerCase());
  if (result) say(result.message, !result.ok);
  busy = false;
  $('actions').removeAttribute('aria-busy');
}

// ---- drawing ------------------------------------------------------------------------------------

function render(state: DetailsState): void {
  current = state;
  if (!$('retry').hidden) $('retry').hidden = true;
  const { status, info } = state;
  if (changed('header', [status.state, status.reason])) {
    const header = $('state');
    header.dataset['state'] = status.state;
    header.dataset['colour'] = info.colour;
    header.style.setProperty('--c', stateHex(info));
    const icon = $<HTMLImageElement>('state-icon');
    icon.src = `icons/${status.state}-32.png`;
    icon.srcset = `icons/${status.state}-32@2x.png 2x`;
    setText($('title'), info.title);
    setText($('reason'), status.reason);
    clampReason(true);
  }
  if (changed('advice', info.advice)) {
    $('advice').hidden = info.advice === '';
    setText($('advice'), info.advice);
  }
  if (changed('actions', status.state)) renderActions(status.state);
  if (changed('facts', [status.facts, status.gateway])) renderFacts(state);
  if (changed('presented', status.state === 'untrusted-certificate' ? [status.facts.presentedFingerprint, status.facts.pinnedFingerprint] : null)) renderPresented(state);
  if (changed('history', state.history.map((t) => t.time))) renderHistory(state);
  if (changed('trust', state.trust)) renderTrust(state);
  if (!dirty && changed('settings', state.settings)) fillSettings(state.settings);
  if (changed('problems', state.settingsProblems)) $('settings-problems').replaceChildren(...state.settingsProblems.map((p) => el('li', { textContent: p })));
  tick();
}

/** Cuts a long reason at three lines, with a button that shows it all (and cuts it again). */
function clampReason(reset: boolean): void {
  const reason = $('reason');
  const more = $<HTMLButtonElement>('more');
  const expanded = !reset && more.getAttribute('aria-expanded') !== 'true';
  reason.classList.toggle('clamped', !expanded);
  more.setAttribute('aria-expanded', String(expanded));
  more.textContent = expanded ? 'Show less' : 'Show all';
  more.hidden = !expanded && reason.scrollHeight <= reason.clientHeight + 1;
}

function renderActions(state: SessionState): void {
  const can = controlsFor(state);
  for (const button of document.querySelectorAll<HTMLButtonElement>('#actions button[data-action]')) {
    const control = can[button.dataset['action'] as Action];
    button.hidden = !control.visible;
    button.disabled = !control.enabled;
    button.title = control.why ?? '';
    button.classList.toggle('primary', PRIMARY[state] === button.dataset['action']);
  }
  $<HTMLButtonElement>('logout').disabled = !can.logout.enabled;
  $<HTMLButtonElement>('logout').title = can.logout.why ?? '';
  if (!can.logout.enabled) closeConfirm('confirm-logout');
}

function renderFacts(state: DetailsState): void {
  const f = state.status.facts;
  setText($('fact-user'), f.userName ? `${f.userName}${f.account ? ` (${f.account})` : ''}` : '—');
  setText($('fact-server'), f.serverName ? `${f.serverName}${f.serverVersion ? `, ${f.serverVersion.replace(/^Build /, 'build ')}` : ''}` : '—');
  setText($('fact-latency'), f.latencyMs !== undefined ? `${f.latencyMs} ms` : '—');
  setText($('fact-gateway'), state.status.gateway);
}

/** The countdowns: the only text that changes every second. */
function tick(): void {
  if (current === undefined) return;
  const { status } = current;
  const now = Date.now();
  setText($('fact-tickle'), ago(status.lastTickleAt, now));
  setText($('fact-next'), status.nextCheckAt ? `in ${span(Date.parse(status.nextCheckAt) - now)}` : status.state === 'paused' ? 'paused' : 'none scheduled');
  const seen = status.lastTickleAt ? Date.parse(status.lastTickleAt) : now;
  const sso = status.facts.ssoExpiresInMs;
  setText($('fact-sso'), sso !== undefined && status.state === 'ready' ? `within ${span(sso - (now - seen))}` : '—');
  // The timeline moves by a pixel every few minutes: redrawn once a minute at most.
  renderTimeline(current, now);
}

function renderTimeline(state: DetailsState, now: number): void {
  const minute = Math.floor(now / 60_000);
  if (!changed('timeline', [minute, state.status.state, state.status.since, state.history.length])) return;
  const segments = timeline(state.history, state.status, now);
  const bar = $('timeline');
  bar.replaceChildren(
    ...segments.map((s) => {
      const part = el('span', { className: 'segment', title: `${title(s.state)}: ${when(new Date(s.from).toISOString(), now)} to ${s.to >= now ? 'now' : when(new Date(s.to).toISOString(), now)}` });
      part.dataset['state'] = s.state;
      part.style.left = `${((s.from - (now - DAY_MS)) / DAY_MS) * 100}%`;
      part.style.width = `${((s.to - s.from) / DAY_MS) * 100}%`;
      part.style.background = stateHex(STATE_INFO[s.state]);
      return part;
    }),
  );
  setText($('timeline-summary'), timelineSummary(segments, title));
}

function renderHistory(state: DetailsState): void {
  const now = Date.now();
  const rows = [...state.history].reverse().slice(0, 100).map((t) => {
    const icon = el('img', { src: `icons/${t.state}.png`, srcset: `icons/${t.state}@2x.png 2x`, width: 16, height: 16, alt: '' });
    const head = el('p', { className: 'what' });
    head.append(el('strong', { textContent: title(t.state) }), ' ', el('time', { dateTime: t.time, textContent: when(t.time, now) }));
    const body = el('div');
    body.append(head, el('p', { className: 'why', textContent: t.reason }));
    const li = el('li');
    li.dataset['state'] = t.state;
    li.append(icon, body);
    return li;
  });
  $('history').replaceChildren(...rows);
  $('history-empty').hidden = rows.length > 0;
}

function renderPresented(state: DetailsState): void {
  const { presentedFingerprint: presented, pinnedFingerprint: pinned } = state.status.state === 'untrusted-certificate' ? state.status.facts : {};
  $('presented').hidden = presented === undefined;
  setText($('presented-fp'), presented ? `SHA-256 ${presented}` : '');
  $('pinned-wrap').hidden = pinned === undefined;
  setText($('pinned-fp'), pinned ? `SHA-256 ${pinned}` : '');
}

function renderTrust(state: DetailsState): void {
  const t = state.trust;
  setText($('trust'), t ? `SHA-256 ${t.fingerprint256} (${t.source === 'first-use' ? 'trusted on first use' : 'trusted by you'}, ${new Date(t.recordedAt).toLocaleString()})` : "None yet: the gateway's certificate is trusted on first use.");
  $('trust-notice').hidden = t?.notice === undefined;
  setText($('trust-notice'), t?.notice ?? '');
  $('forget').hidden = t === null;
  if (t === null) closeConfirm('confirm-forget');
}

// ---- settings -------------------------------------------------------------------------------------

let dirty = false;
/** Launch at login is sent only when the person changed it: undecided (null) stays undecided. */
let launchTouched = false;
const FIELDS = { gateway: 'gateway', intervalSeconds: 'interval', launchAtLogin: 'launch', notifications: 'notifications' } as const;

function fillSettings(settings: Settings): void {
  $<HTMLInputElement>('gateway').value = settings.gateway;
  $<HTMLInputElement>('interval').value = String(settings.intervalSeconds);
  const launch = $<HTMLInputElement>('launch');
  launch.checked = settings.launchAtLogin === true;
  launch.indeterminate = settings.launchAtLogin === null;
  launchTouched = false;
  setText($('hint-launch'), settings.launchAtLogin === null ? 'Not decided yet: it turns on after the first successful session, unless you decide now.' : '');
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
  for (const input of box.querySelectorAll<HTMLInputElement>('input[data-kind]')) input.checked = settings.notifications[input.dataset['kind'] as keyof Settings['notifications']];
}

async function saveSettings(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const interval = $<HTMLInputElement>('interval').value.trim();
  const change: Record<string, unknown> = {
    gateway: $<HTMLInputElement>('gateway').value,
    intervalSeconds: interval === '' || Number.isNaN(Number(interval)) ? interval : Number(interval),
    notifications: Object.fromEntries([...document.querySelectorAll<HTMLInputElement>('#notifications input[data-kind]')].map((i) => [i.dataset['kind'], i.checked])),
  };
  if (launchTouched) change['launchAtLogin'] = $<HTMLInputElement>('launch').checked;
  setText($('settings-message'), 'Saving.');
  const result = await ask('settings:save', change as Partial<Settings>, 'save the settings');
  if (result === undefined) return setText($('settings-message'), 'Not saved.');
  let first: HTMLElement | undefined;
  for (const [field, id] of Object.entries(FIELDS)) {
    const message = result.ok ? '' : (result.errors[field as keyof Settings] ?? '');
    setText($(`error-${field}`), message);
    $(id).setAttribute('aria-invalid', String(message !== ''));
    if (message !== '') first ??= $(id);
  }
  setText($('settings-message'), result.ok ? 'Saved.' : 'Not saved: see the messages above.');
  $('settings-message').classList.toggle('bad', !result.ok);
  if (result.ok) {
    dirty = false;
    shown.delete('settings');
    if (current) render({ ...current, settings: result.settings, settingsProblems: [] });
  } else {
    // The first refused field, with its message read out (aria-describedby).
    (first?.querySelector('input') ?? first)?.focus();
  }
}

// ---- tabs, confirmations, wiring --------------------------------------------------------------------

function select(tab: HTMLElement, focus = true): void {
  for (const t of document.querySelectorAll<HTMLElement>('[role="tab"]')) {
    const on = t === tab;
    t.setAttribute('aria-selected', String(on));
    t.tabIndex = on ? 0 : -1;
    $(t.getAttribute('aria-controls')!).hidden = !on;
  }
  if (focus) tab.focus();
}

function wireTabs(): void {
  const tabs = [...document.querySelectorAll<HTMLElement>('[role="tab"]')];
  for (const tab of tabs) {
    tab.addEventListener('click', () => select(tab));
    tab.addEventListener('keydown', (e) => {
      const i = tabs.indexOf(tab);
      const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
      if (next === undefined) return;
      e.preventDefault();
      select(tabs[(next + tabs.length) % tabs.length]!);
    });
  }
}

function openConfirm(id: string): void {
  $(id).hidden = false;
  $(id).querySelector<HTMLButtonElement>('.cancel')!.focus();
}
function closeConfirm(id: string, refocus = false): void {
  if ($(id).hidden) return;
  $(id).hidden = true;
  if (refocus) document.querySelector<HTMLElement>(`[data-confirm="${id}"]`)?.focus();
}

function wire(): void {
  wireTabs();
  for (const button of document.querySelectorAll<HTMLButtonElement>('button[data-action]')) {
    button.addEventListener('click', () => {
      closeConfirm('confirm-logout');
      void act(button.dataset['action'] as Action, button.textContent ?? '');
    });
  }
  for (const opener of document.querySelectorAll<HTMLElement>('[data-confirm]')) opener.addEventListener('click', () => openConfirm(opener.dataset['confirm']!));
  for (const box of document.querySelectorAll<HTMLElement>('.confirm')) {
    box.querySelector('.cancel')!.addEventListener('click', () => closeConfirm(box.id, true));
    box.addEventListener('keydown', (e) => e.key === 'Escape' && closeConfirm(box.id, true));
  }
  $('forget-yes').addEventListener('click', async () => {
    closeConfirm('confirm-forget');
    const result = await ask('trust:forget', null, 'forget the certificate');
    if (result) say(result.message, !result.ok);
  });
  $('trust-new').addEventListener('click', async () => {
    const fingerprint256 = current?.status.facts.presentedFingerprint;
    if (fingerprint256 === undefined) return;
    const result = await ask('trust:accept', { fingerprint256 }, 'trust the certificate');
    if (result) say(result.message, !result.ok);
  });
  $('settings').addEventListener('submit', (e) => void saveSettings(e as SubmitEvent));
  $('settings').addEventListener('input', () => void (dirty = true));
  $('launch').addEventListener('change', () => void (launchTouched = true));
  $('retry').addEventListener('click', () => void load());
  $('more').addEventListener('click', () => clampReason(false));
  window.keeper.onState(render);
  setInterval(tick, 1_000);
}

async function load(): Promise<void> {
  const state = await ask('state:get', null, "load the keeper's state");
  if (state) {
    if (!$('retry').hidden) say('');
    return render(state);
  }
  $('retry').hidden = false;
  if (current === undefined) {
    setText($('title'), 'No answer from the keeper');
    setText($('reason'), "The window could not load the session's state: see below.");
  }
}

wire();
void load();
