#!/usr/bin/env node
// The `ibkr-keeper` command. Checks the Node.js version before loading anything that needs it,
// so an old Node says what to do instead of failing on a syntax or API error.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(
    `ibkr-keeper needs Node.js 22.19 or later, and this is ${process.version}. ` +
      'From a clone of the repository, run it as `npx ibkr-keeper` after `npm ci` (that brings Node 22); ' +
      'elsewhere install Node.js 22 or later.\n',
  );
  process.exit(1);
}
await import('../dist/main/cli/main.js');
