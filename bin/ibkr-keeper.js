#!/usr/bin/env node
// The `ibkr-keeper` command. Checks the Node.js version before loading anything that needs it,
// so an old Node says what to do instead of failing on a syntax or API error. CommonJS
// (bin/package.json), like the bundled command line it loads: an ES module here would bring
// Node's ES-module loader into every `watch` process for nothing.
'use strict';
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(
    `ibkr-keeper needs Node.js 22.19 or later, and this is ${process.version}. ` +
      'From a clone of the repository, run it as `npx ibkr-keeper` after `npm ci` (that brings Node 22); ' +
      'elsewhere install Node.js 22.19 or later.\n',
  );
  process.exit(1);
}

// `watch` runs for months beside a trading bot, so the command runs small: JavaScript is only
// interpreted, never compiled to machine code (which would add about 6 MB once its functions are
// hot, to save microseconds on one request a minute), and the young generation is 1 MB. The
// process restarts itself once with these options, keeping its process id (for systemd and
// scripts). Node.js refuses to start on a V8 option it does not know; these are known to Node.js
// 22 to 26 (checked 2026-11), so a later Node.js, or a system that forbids the restart, runs the
// command as it is. `npm run bench` measures the result.
// `--disable-sigusr1`: SIGUSR1 must not open a debugger port in a long-running keeper.
const SMALL = ['--no-turbofan', '--no-maglev', '--no-sparkplug', '--max-semi-space-size=1', '--disable-sigusr1'];
const CHECKED_UP_TO = 26;
if (typeof process.execve === 'function' && major <= CHECKED_UP_TO && !process.execArgv.includes(SMALL[0])) {
  try {
    process.execve(process.execPath, [
      process.execPath,
      ...process.execArgv,
      ...SMALL,
      __filename,
      ...process.argv.slice(2),
    ]);
  } catch {
    // Not allowed here (a sandbox, say): run as it is.
  }
}
require('../dist/cli/ibkr-keeper.cjs');
