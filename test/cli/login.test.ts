/**
 * `ibkr-keeper login` tells whether the browser opened: the opener's exit code decides (xdg-open
 * exits 3 on a server with no browser), not merely that it started.
 */
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runCli, tempDir } from '../helpers.ts';

const json = (stdout: string): any => JSON.parse(stdout.trim().split('\n').at(-1)!);

function script(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

test('login: an opener that fails (exit 3, /bin/false) is said, with what to do, and exits 11', async (t) => {
  const config = tempDir(t);
  const args = ['login', '--gateway', 'https://localhost:5999', '--config-dir', config];
  const noBrowser = script(config, 'xdg-open', 'echo "xdg-open: no method available for opening \'$1\'" >&2\nexit 3');
  const plain = await runCli(args, { env: { IBKR_KEEPER_BROWSER: noBrowser } });
  assert.equal(plain.code, 11);
  assert.equal(plain.stdout, 'Log in to the gateway at https://localhost:5999/\n', 'the address, and no "Opened"');
  assert.equal(
    plain.stderr,
    `ibkr-keeper: Could not open a browser (${noBrowser} exited with code 3: no browser was found): ` +
      'open https://localhost:5999/ yourself in a browser (--no-open only prints it).\n',
  );
  const asJson = await runCli([...args, '--json'], { env: { IBKR_KEEPER_BROWSER: '/bin/false' } });
  assert.equal(asJson.code, 11);
  const body = json(asJson.stdout);
  assert.deepEqual([body.url, body.opened], ['https://localhost:5999/', false]);
  assert.equal(
    body.error,
    'Could not open a browser (/bin/false exited with code 1): open https://localhost:5999/ yourself.',
  );
});

test('login: an opener that succeeds is said as opened, exit 0', async (t) => {
  const config = tempDir(t);
  const opened = path.join(config, 'opened.txt');
  const browser = script(config, 'browser.sh', `echo "$1" > "${opened}"`);
  const args = ['login', '--gateway', 'https://localhost:5999', '--config-dir', config];
  const plain = await runCli(args, { env: { IBKR_KEEPER_BROWSER: browser } });
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(plain.stdout, 'Log in to the gateway at https://localhost:5999/\nOpened it in your browser.\n');
  assert.equal(readFileSync(opened, 'utf8'), 'https://localhost:5999/\n', 'waited for: it has run');
  const asJson = await runCli([...args, '--json'], { env: { IBKR_KEEPER_BROWSER: browser } });
  assert.equal(asJson.code, 0, asJson.stderr);
  assert.deepEqual([json(asJson.stdout).opened, json(asJson.stdout).error], [true, undefined]);
});
