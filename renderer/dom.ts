/**
 * The window's small toolkit: elements by id, text set only when it changes, the one message line,
 * requests to the main process that always end (an answer, or a message that says what failed),
 * tabs with the keyboard of the ARIA tabs pattern, and inline confirmations.
 */
import type { InvokeChannel, InvokeContract, KeeperBridge } from '../main/contract.ts';

declare global {
  interface Window {
    keeper: KeeperBridge;
  }
}

/** How long an answer may take before the window says it has none (a slow gateway takes up to ~30 s). */
const ANSWER_TIMEOUT_MS = 45_000;

export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
export const el = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
): HTMLElementTagNameMap[K] => Object.assign(document.createElement(tag), props);
/** Sets a text only when it differs: no mutation, nothing re-read by a screen reader, a selection kept. */
export const setText = (node: HTMLElement, text: string): void => {
  if (node.textContent !== text) node.textContent = text;
};

/** The message line at the bottom (a polite live region); `bad` for a failure. */
export function say(text: string, bad = false): void {
  $('message').textContent = text;
  $('message').classList.toggle('bad', bad);
}

/** One request; a rejection or a missing answer becomes a message that says what failed. */
export async function ask<C extends InvokeChannel>(
  channel: C,
  request: InvokeContract[C]['request'],
  doing: string,
): Promise<InvokeContract[C]['response'] | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer after ${ANSWER_TIMEOUT_MS / 1_000} s`)), ANSWER_TIMEOUT_MS);
  });
  try {
    return await Promise.race([window.keeper.invoke(channel, request), timeout]);
  } catch (error) {
    const why = (error instanceof Error ? error.message : String(error)).replace(
      /^Error invoking remote method '[^']+': (Error: )?/,
      '',
    );
    say(`Could not ${doing}: ${why}. The keeper goes on; try again, or restart the app if this persists.`, true);
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/** Selects a tab: its panel shown, the others hidden, one tab stop (roving tabindex). */
function select(tab: HTMLElement): void {
  for (const t of document.querySelectorAll<HTMLElement>('[role="tab"]')) {
    const on = t === tab;
    t.setAttribute('aria-selected', String(on));
    t.tabIndex = on ? 0 : -1;
    $(t.getAttribute('aria-controls')!).hidden = !on;
  }
  tab.focus();
}

/** Tabs: click, or arrow keys, Home and End (https://www.w3.org/WAI/ARIA/apg/patterns/tabs/). */
export function wireTabs(): void {
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

/** Shows an inline confirmation, the safe choice (Cancel) focused. */
export function openConfirm(id: string): void {
  $(id).hidden = false;
  $(id).querySelector<HTMLButtonElement>('.cancel')!.focus();
}
export function closeConfirm(id: string, refocus = false): void {
  if ($(id).hidden) return;
  $(id).hidden = true;
  if (refocus) document.querySelector<HTMLElement>(`[data-confirm="${id}"]`)?.focus();
}

/** Each [data-confirm] opens its confirmation; Cancel and Escape close it, the focus back on the opener. */
export function wireConfirms(): void {
  for (const opener of document.querySelectorAll<HTMLElement>('[data-confirm]'))
    opener.addEventListener('click', () => openConfirm(opener.dataset['confirm']!));
  for (const box of document.querySelectorAll<HTMLElement>('.confirm')) {
    box.querySelector('.cancel')!.addEventListener('click', () => closeConfirm(box.id, true));
    box.addEventListener('keydown', (e) => e.key === 'Escape' && closeConfirm(box.id, true));
  }
}
