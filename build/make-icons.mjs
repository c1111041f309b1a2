// Draws the tray icons: one shape per state, filled with the state's colour from the one palette
// (main/session/palette.ts, through the state table's colour names), so that a state is told by
// its shape alone on a monochrome panel or by a colour-blind user, and by its colour at a glance.
// Marks inside a shape are cut out (transparent), so the shape is all in the alpha channel: the
// macOS template variants (`<state>Template.png`, black with that alpha) are the same drawing.
// Writes assets/tray/<state>{,@2x,-32,-32@2x,Template,Template@2x}.png, the app icon, and, when
// ImageMagick is installed, docs/tray-icons.png (every icon on a light and a dark panel).
// Run with `npm run icons` after changing the table, the palette or a shape; the PNGs are committed.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { PALETTE, rgb } from '../dist/main/session/palette.js';
import { SESSION_STATES, STATE_INFO } from '../dist/main/session/states.js';

// ---- geometry, in a 16 x 16 design grid (1 unit = 1 pixel of the 16 px icon) -----------------

const disc = (cx, cy, r) => (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
const ring = (cx, cy, outer, inner) => (x, y) => {
  const d = (x - cx) ** 2 + (y - cy) ** 2;
  return d <= outer * outer && d >= inner * inner;
};
const rect = (x0, y0, x1, y1) => (x, y) => x >= x0 && x <= x1 && y >= y0 && y <= y1;
/** A stroke along the segment a-b, `width` wide, with round caps. */
const stroke = (ax, ay, bx, by, width) => (x, y) => {
  const [dx, dy] = [bx - ax, by - ay];
  const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
  return (x - ax - t * dx) ** 2 + (y - ay - t * dy) ** 2 <= (width / 2) ** 2;
};
/** A convex polygon, its points clockwise or anticlockwise. */
const polygon =
  (...points) =>
  (x, y) => {
    let sign = 0;
    for (let i = 0; i < points.length; i += 1) {
      const [ax, ay] = points[i];
      const [bx, by] = points[(i + 1) % points.length];
      const cross = (bx - ax) * (y - ay) - (by - ay) * (x - ax);
      if (cross !== 0) {
        if (sign !== 0 && Math.sign(cross) !== sign) return false;
        sign = Math.sign(cross);
      }
    }
    return true;
  };
/** Degrees clockwise from 12 o'clock, around (8, 8). */
const angle = (x, y) => (Math.atan2(x - 8, 8 - y) * 180) / Math.PI + (x < 8 ? 360 : 0);
const union =
  (...shapes) =>
  (x, y) =>
    shapes.some((s) => s(x, y));
const minus =
  (shape, ...holes) =>
  (x, y) =>
    shape(x, y) && !holes.some((h) => h(x, y));
const and = (a, b) => (x, y) => a(x, y) && b(x, y);

const body = disc(8, 8, 7);

/**
 * What each state looks like, in words (README, montage) and as a shape. Every pair differs in
 * shape (test/desktop/tray.test.ts compares their alpha masks at 16 px).
 */
export const GLYPHS = {
  starting: {
    words: 'a dotted ring (a spinner)',
    shape: union(
      ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) =>
        disc(8 + 5.5 * Math.sin((i * Math.PI) / 4), 8 - 5.5 * Math.cos((i * Math.PI) / 4), 1.55),
      ),
    ),
  },
  ready: {
    words: 'a disc with a check mark',
    shape: minus(body, stroke(4.4, 8.2, 7, 10.8, 2.3), stroke(7, 10.8, 11.6, 5.6, 2.3)),
  },
  'not-authenticated': {
    words: 'a half-filled ring (the login holds, the session does not)',
    shape: union(
      ring(8, 8, 7, 5.1),
      and(body, (x) => x <= 8),
    ),
  },
  reauthenticating: {
    words: 'a circular arrow',
    shape: union(
      and(ring(8, 8, 6.3, 4.0), (x, y) => angle(x, y) >= 62),
      polygon([7.4, 0], [11.8, 3.15], [7.4, 6.3]),
    ),
  },
  competing: {
    words: 'two overlapping coins (two logins)',
    shape: union(minus(disc(5.4, 8, 4.5), disc(10.6, 8, 5.7)), disc(10.6, 8, 4.5)),
  },
  'login-required': {
    words: 'a padlock',
    shape: minus(
      union(
        and(ring(8, 6, 4.1, 2.2), (_x, y) => y <= 6),
        rect(3.9, 6, 5.8, 7.6),
        rect(10.2, 6, 12.1, 7.6),
        rect(2.6, 7.2, 13.4, 14.6),
      ),
      disc(8, 10.2, 1.4),
      rect(7.35, 10.2, 8.65, 12.8),
    ),
  },
  'gateway-down': { words: 'a no-entry sign (a disc with a bar)', shape: minus(body, rect(3.4, 6.8, 12.6, 9.2)) },
  'rate-limited': {
    words: 'an hourglass',
    shape: union(
      rect(2.8, 1.2, 13.2, 2.9),
      rect(2.8, 13.1, 13.2, 14.8),
      polygon([3.8, 2.8], [12.2, 2.8], [8.9, 8], [7.1, 8]),
      polygon([7.1, 8], [8.9, 8], [12.2, 13.2], [3.8, 13.2]),
    ),
  },
  'untrusted-certificate': {
    words: 'a shield with "!"',
    shape: minus(
      (x, y) => y >= 1.2 && y <= 15.2 && Math.abs(x - 8) <= (y <= 8 ? 6 : 6 * (1 - ((y - 8) / 7.2) ** 2)),
      rect(7, 3.6, 9, 9.2),
      disc(8, 11.7, 1.2),
    ),
  },
  paused: {
    words: 'a ring with pause bars (hollow)',
    shape: union(ring(8, 8, 7, 5.2), rect(5, 5, 7, 11), rect(9, 5, 11, 11)),
  },
  'keeper-error': {
    words: 'a disc with a cross',
    shape: minus(body, stroke(5.1, 5.1, 10.9, 10.9, 2.3), stroke(10.9, 5.1, 5.1, 10.9, 2.3)),
  },
};

// ---- drawing ----------------------------------------------------------------------------------

/** Coverage of each pixel of a `size` icon by `shape` (n x n samples per pixel), 0..1. */
function coverage(size, shape, n = 8) {
  const out = new Float64Array(size * size);
  const scale = 16 / size;
  for (let py = 0; py < size; py += 1) {
    for (let px = 0; px < size; px += 1) {
      let hits = 0;
      for (let i = 0; i < n; i += 1)
        for (let j = 0; j < n; j += 1) if (shape((px + (i + 0.5) / n) * scale, (py + (j + 0.5) / n) * scale)) hits += 1;
      out[py * size + px] = hits / (n * n);
    }
  }
  return out;
}

/** A PNG of `shape` in `[r, g, b]`, its alpha the coverage. */
function draw(size, [r, g, b], shape, samples) {
  const png = new PNG({ width: size, height: size });
  const alpha = coverage(size, shape, samples);
  for (let i = 0; i < size * size; i += 1) png.data.set([r, g, b, Math.round(255 * alpha[i])], i * 4);
  return PNG.sync.write(png);
}

const OUT = 'assets/tray';
mkdirSync(OUT, { recursive: true });
for (const state of SESSION_STATES) {
  const glyph = GLYPHS[state];
  if (glyph === undefined)
    throw new Error(`No glyph for the state "${state}": add one to GLYPHS in build/make-icons.mjs.`);
  const colour = rgb(PALETTE[STATE_INFO[state].colour]);
  for (const [suffix, size] of [
    ['', 16],
    ['@2x', 32],
    ['-32', 32],
    ['-32@2x', 64],
  ])
    writeFileSync(`${OUT}/${state}${suffix}.png`, draw(size, colour, glyph.shape));
  // macOS menu bar: template images (black, shape in the alpha channel); macOS tints them.
  writeFileSync(`${OUT}/${state}Template.png`, draw(16, [0, 0, 0], glyph.shape));
  writeFileSync(`${OUT}/${state}Template@2x.png`, draw(32, [0, 0, 0], glyph.shape));
}
writeFileSync('assets/icon.png', draw(512, rgb(PALETTE.green), GLYPHS.ready.shape, 3));
console.log(`icons for ${SESSION_STATES.length} states written to ${OUT}, app icon to assets/icon.png`);

// ---- the montage: every icon at its real size on a light and a dark panel -----------------------

function montage(file) {
  try {
    execFileSync('montage', ['-version'], { stdio: 'ignore' });
  } catch {
    console.log(`ImageMagick's montage is not installed: ${file} was not redrawn (apt-get install imagemagick).`);
    return;
  }
  const tmp = mkdtempSync(path.join(tmpdir(), 'icons-'));
  try {
    const panels = [];
    for (const [name, background, text] of [
      ['light', '#f2f2f2', '#1f2328'],
      ['dark', '#202225', '#e6edf3'],
    ]) {
      const rows = [];
      for (const [title, suffix, template] of [
        ['16 px', '', false],
        ['32 px (Linux)', '-32', false],
        ['macOS template, 16 px', 'Template', true],
      ]) {
        const args = ['-background', background, '-fill', text, '-font', 'DejaVu-Sans', '-pointsize', '10'];
        for (const state of SESSION_STATES) {
          let icon = `${OUT}/${state}${suffix}.png`;
          // macOS shows a template black on a light menu bar and white on a dark one.
          if (template && name === 'dark') {
            icon = path.join(tmp, `${state}.png`);
            execFileSync('convert', [`${OUT}/${state}${suffix}.png`, '-channel', 'RGB', '-negate', icon]);
          }
          args.push('-label', state, icon);
        }
        const row = path.join(tmp, `${name}-${rows.length}.png`);
        execFileSync('montage', [
          ...args,
          '-tile',
          `${SESSION_STATES.length}x1`,
          '-geometry',
          '92x40>+2+2',
          '-title',
          `${title}`,
          row,
        ]);
        rows.push(row);
      }
      const panel = path.join(tmp, `${name}.png`);
      execFileSync('convert', [
        '-background',
        background,
        ...rows,
        '-append',
        '-bordercolor',
        background,
        '-border',
        '8',
        panel,
      ]);
      panels.push(panel);
    }
    mkdirSync(path.dirname(file), { recursive: true });
    execFileSync('convert', [...panels, '-append', file]);
    console.log(`montage of every icon on a light and a dark panel written to ${file}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
montage('docs/tray-icons.png');
