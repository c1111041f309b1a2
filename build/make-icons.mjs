// Draws the tray icons from one definition: a disc in the state's colour (DESIGN.md's table),
// with a mark where a colour alone would not tell. 16 and 32 px, each with its @2x, plus the app
// icon. Run with `npm run icons` after changing the table; the PNGs are committed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { SESSION_STATES, STATE_INFO } from '../dist/main/session/states.js';

const COLOURS = {
  grey: [0x8a, 0x8f, 0x98], green: [0x2e, 0xa0, 0x43], amber: [0xd2, 0x99, 0x22], orange: [0xe8, 0x59, 0x0c],
  red: [0xd1, 0x24, 0x2f], purple: [0x82, 0x50, 0xdf], hollow: [0x8a, 0x8f, 0x98],
};
/** What is drawn on the disc, per state (shapes in a unit square, centre 0.5, 0.5). */
const MARKS = {
  'untrusted-certificate': 'exclamation',
  reauthenticating: 'dot',
  starting: 'dot',
  'gateway-down': 'bar',
  paused: 'ring',
  'keeper-error': 'cross',
};

/** Coverage of a pixel by a shape, 4x4 samples for smooth edges. */
function coverage(x, y, size, inside) {
  let hits = 0;
  for (let i = 0; i < 4; i += 1) for (let j = 0; j < 4; j += 1) if (inside((x + (i + 0.5) / 4) / size, (y + (j + 0.5) / 4) / size)) hits += 1;
  return hits / 16;
}

const disc = (r) => (u, v) => (u - 0.5) ** 2 + (v - 0.5) ** 2 <= r * r;
const SHAPES = {
  ring: (u, v) => disc(0.44)(u, v) && !disc(0.28)(u, v),
  dot: disc(0.14),
  bar: (u, v) => Math.abs(v - 0.5) < 0.07 && Math.abs(u - 0.5) < 0.24,
  cross: (u, v) => (Math.abs(u - v) < 0.1 || Math.abs(u + v - 1) < 0.1) && Math.abs(u - 0.5) < 0.22 && Math.abs(v - 0.5) < 0.22,
  exclamation: (u, v) => (Math.abs(u - 0.5) < 0.07 && v > 0.2 && v < 0.58) || (u - 0.5) ** 2 + (v - 0.74) ** 2 < 0.075 ** 2,
};

function draw(size, colour, mark) {
  const png = new PNG({ width: size, height: size });
  const [r, g, b] = COLOURS[colour];
  const body = mark === 'ring' ? SHAPES.ring : disc(0.44);
  const hole = mark && mark !== 'ring' ? SHAPES[mark] : () => false;
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) {
      const i = (y * size + x) * 4;
      const a = coverage(x, y, size, body);
      const w = coverage(x, y, size, hole);
      // The mark is white, drawn over the disc.
      png.data[i] = Math.round(r * (1 - w) + 255 * w);
      png.data[i + 1] = Math.round(g * (1 - w) + 255 * w);
      png.data[i + 2] = Math.round(b * (1 - w) + 255 * w);
      png.data[i + 3] = Math.round(255 * Math.max(a, w));
    }
  }
  return PNG.sync.write(png);
}

mkdirSync('assets/tray', { recursive: true });
for (const state of SESSION_STATES) {
  const { colour } = STATE_INFO[state];
  const mark = MARKS[state] ?? (colour === 'hollow' ? 'ring' : undefined);
  writeFileSync(`assets/tray/${state}.png`, draw(16, colour, mark));
  writeFileSync(`assets/tray/${state}@2x.png`, draw(32, colour, mark));
  writeFileSync(`assets/tray/${state}-32.png`, draw(32, colour, mark));
  writeFileSync(`assets/tray/${state}-32@2x.png`, draw(64, colour, mark));
}
writeFileSync('assets/icon.png', draw(512, 'green', 'dot'));
console.log(`icons for ${SESSION_STATES.length} states written to assets/tray, app icon to assets/icon.png`);
