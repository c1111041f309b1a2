/**
 * The details window: the state always on top (announced when it changes), then three views as
 * tabs: Status (what to do, actions, facts, the last 24 hours), History and Settings. It talks
 * only to `window.keeper` (the preload's bridge) and shows everything as text, never as HTML.
 * Each part is redrawn only when what it shows changed, so focus, selection and what a screen
 * reader is reading stay put; only the countdowns move every second.
 */
import { controlsFor, type Action, type DetailsState } from '../main/contract.ts';
import { stateHex } from '../main/session/palette.ts';
import { STATE_INFO, type SessionState } from '../main/session/states.ts';
import { $, ask, closeConfirm, el, say, setText, wireConfirms, wireTabs } from './dom.ts';
import { ago, span, timeline, timelineSummary, when, DAY_MS } from './format.ts';
import { renderProcess, renderSetup, wireGateway } from './gateway.ts';
import { editing, fillSettings, wireSettings } from './settings.ts';

/** The button that does what a state asks for, shown first and emphasised. */
const PRIMARY: Partial<Record<SessionState, Action>> = {
  competing: 'take-over',
  'login-required': 'open-login-page',
  'not-authenticated': 'reauthenticate',
  paused: 'resume',
};
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

/** One action at a time; its answer, or why there is none, goes to the message line. */
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
  if (changed('advice', [info.advice, state.gatewaySetup])) {
    // The first-run step says what to do: the state's general advice would only repeat it less well.
    renderSetup(state);
    $('advice').hidden = info.advice === '' || state.gatewaySetup !== null;
    setText($('advice'), info.advice);
  }
  if (changed('notification-problem', state.notificationProblem)) {
    $('notification-problem').hidden = state.notificationProblem === null;
    setText($('notification-problem'), state.notificationProblem ?? '');
  }
  if (changed('desktop', state.desktop)) renderDesktop(state);
  if (changed('actions', status.state)) renderActions(status.state);
  if (changed('facts', [status.facts, status.gateway])) renderFacts(state);
  if (
    changed(
      'presented',
      status.state === 'untrusted-certificate'
        ? [status.facts.presentedFingerprint, status.facts.pinnedFingerprint]
        : null,
    )
  )
    renderPresented(state);
  if (
    changed(
      'history',
      state.history.map((t) => t.time),
    )
  )
    renderHistory(state);
  if (changed('trust', state.trust)) renderTrust(state);
  if (changed('process', [state.gateway, state.gatewayLog])) renderProcess(state);
  if (!editing() && changed('settings', state.settings)) fillSettings(state.settings);
  if (changed('problems', state.settingsProblems))
    $('settings-problems').replaceChildren(...state.settingsProblems.map((p) => el('li', { textContent: p })));
  tick();
}

/** What only the desktop knows: launch at login as the system has it, the tray, the log file. */
function renderDesktop(state: DetailsState): void {
  const { launchAtLogin, trayHint, logFile } = state.desktop;
  setText($('launch-system'), `System: ${launchAtLogin.text}`);
  $('launch-system').dataset['state'] = launchAtLogin.state;
  $('tray-hint').hidden = trayHint === null;
  setText($('tray-hint'), trayHint ?? '');
  $('log-file').hidden = logFile === null;
  setText($('log-file'), logFile === null ? '' : `Log file: ${logFile}`);
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
  setText(
    $('fact-server'),
    f.serverName ? f.serverName + (f.serverVersion ? `, ${f.serverVersion.replace(/^Build /, 'build ')}` : '') : '—',
  );
  setText($('fact-latency'), f.latencyMs !== undefined ? `${f.latencyMs} ms` : '—');
  setText($('fact-gateway'), state.status.gateway);
}

/** The countdowns: the only text that changes every second. */
function tick(): void {
  if (current === undefined) return;
  const { status } = current;
  const now = Date.now();
  setText($('fact-tickle'), ago(status.lastTickleAt, now));
  setText(
    $('fact-next'),
    status.nextCheckAt
      ? `in ${span(Date.parse(status.nextCheckAt) - now)}`
      : status.state === 'paused'
        ? 'paused'
        : 'none scheduled',
  );
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
      const part = el('span', {
        className: 'segment',
        title:
          `${title(s.state)}: ${when(new Date(s.from).toISOString(), now)} ` +
          `to ${s.to >= now ? 'now' : when(new Date(s.to).toISOString(), now)}`,
      });
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
  const rows = [...state.history]
    .reverse()
    .slice(0, 100)
    .map((t) => {
      const icon = el('img', {
        src: `icons/${t.state}.png`,
        srcset: `icons/${t.state}@2x.png 2x`,
        width: 16,
        height: 16,
        alt: '',
      });
      const head = el('p', { className: 'what' });
      head.append(
        el('strong', { textContent: title(t.state) }),
        ' ',
        el('time', { dateTime: t.time, textContent: when(t.time, now) }),
      );
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
  const { presentedFingerprint: presented, pinnedFingerprint: pinned } =
    state.status.state === 'untrusted-certificate' ? state.status.facts : {};
  $('presented').hidden = presented === undefined;
  setText($('presented-fp'), presented ? `SHA-256 ${presented}` : '');
  $('pinned-wrap').hidden = pinned === undefined;
  setText($('pinned-fp'), pinned ? `SHA-256 ${pinned}` : '');
}

function renderTrust(state: DetailsState): void {
  const t = state.trust;
  setText(
    $('trust'),
    t
      ? `SHA-256 ${t.fingerprint256} (${
          t.source === 'first-use' ? 'trusted on first use' : 'trusted by you'
        }, ${new Date(t.recordedAt).toLocaleString()})`
      : "None yet: the gateway's certificate is trusted on first use.",
  );
  $('trust-notice').hidden = t?.notice === undefined;
  setText($('trust-notice'), t?.notice ?? '');
  $('forget').hidden = t === null;
  if (t === null) closeConfirm('confirm-forget');
}

// ---- wiring -------------------------------------------------------------------------------------

function wire(): void {
  wireTabs();
  wireConfirms();
  wireGateway();
  wireSettings((settings) => {
    shown.delete('settings');
    if (current) render({ ...current, settings, settingsProblems: [] });
  });
  for (const button of document.querySelectorAll<HTMLButtonElement>('button[data-action]')) {
    button.addEventListener('click', () => {
      closeConfirm('confirm-logout');
      void act(button.dataset['action'] as Action, button.textContent ?? '');
    });
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
  $('own-certificate').addEventListener('click', async () => {
    const result = await ask('gateway:certificate', null, 'give the gateway its own certificate');
    if (result) say(result.message, !result.ok);
  });
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
