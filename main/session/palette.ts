/**
 * The one palette: the hex value of every colour name of the state table (states.ts). The tray
 * icons (build/make-icons.mjs) and the window (renderer/app.ts) both read it, so a colour is
 * changed here and nowhere else. Pure data, no imports at run time: the renderer bundles it.
 */
import type { StateInfo } from './states.ts';

/** Colour name (StateInfo['colour']) to `#rrggbb`. `hollow` (paused) is drawn as a grey ring. */
export const PALETTE: Readonly<Record<StateInfo['colour'], `#${string}`>> = {
  grey: '#8a8f98',
  green: '#2ea043',
  amber: '#d29922',
  orange: '#e8590c',
  red: '#d1242f',
  purple: '#8250df',
  hollow: '#8a8f98',
};

/** The hex colour of a state, through the state table's colour name. */
export function stateHex(info: Pick<StateInfo, 'colour'>): `#${string}` {
  return PALETTE[info.colour];
}

/** `#rrggbb` as [r, g, b], for the icon script and pixel tests. */
export function rgb(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}
