/**
 * Which tray icon file a state shows on each platform (assets/tray, drawn by
 * build/make-icons.mjs: every state has its own shape, filled with its colour).
 */
import { STATE_INFO, type SessionState } from '../session/states.ts';

/**
 * True when a state's colour says something its shape does not: a problem or work under way.
 * Green (all is well) and grey (starting, gateway down, paused) add nothing a shape does not.
 */
export function needsColour(state: SessionState): boolean {
  return !['green', 'grey', 'hollow'].includes(STATE_INFO[state].colour);
}

/**
 * The file name in assets/tray. Linux panels scale icons themselves, so they get the 32 px one.
 * macOS gets a template image (black, tinted by the menu bar for light and dark) where the state
 * needs none of its colour, and the coloured icon where it does; Windows the 16 px icon (Electron
 * loads `@2x` beside it on high-density screens).
 */
export function trayIconFile(state: SessionState, platform: NodeJS.Platform): string {
  if (platform === 'linux') return `${state}-32.png`;
  if (platform === 'darwin' && !needsColour(state)) return `${state}Template.png`;
  return `${state}.png`;
}
