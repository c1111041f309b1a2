// Fails when a line of the code is longer than 120 characters. Biome's formatter keeps code within
// 120 columns but never splits a string, a comment or a regular expression: those are split by hand.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MAX = 120;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const folders = ['main', 'renderer', 'test', 'build', 'bin'];
const code = /\.(ts|mjs|js)$/;

const long = [];
for (const folder of folders) {
  for (const entry of readdirSync(path.join(root, folder), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !code.test(entry.name)) continue;
    const file = path.join(entry.parentPath, entry.name);
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (line.length > MAX) long.push(`${path.relative(root, file)}:${i + 1}: ${line.length} characters`);
      });
  }
}
if (long.length > 0) {
  console.error(`${long.length} line(s) longer than ${MAX} characters; split them:\n${long.join('\n')}`);
  process.exit(1);
}
