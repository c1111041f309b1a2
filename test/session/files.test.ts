/**
 * Files are never reset silently: every state file that holds something else than the keeper's
 * object, is too large, or is a symbolic link where the keeper writes, gives an error naming it
 * and is left exactly as it was. Settings are written only when saved, unknown keys kept.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { resolveConfigDir } from '../../main/session/config-dir.ts';
import { UserError } from '../../main/session/errors.ts';
import { History } from '../../main/session/history.ts';
import { fileLedger, Pacer } from '../../main/session/pacing.ts';
import { fileBudget, RecoveryBudget } from '../../main/session/policy.ts';
import { DEFAULT_SETTINGS, SettingsFile } from '../../main/session/settings.ts';
import { TrustStore } from '../../main/session/trust-store.ts';
import { NOT_OURS, tempDir, pattern } from '../helpers.ts';

const FINGERPRINT = `${'AB:'.repeat(31)}AB`;

/** Each state file, with one thing that reads it and one that writes it. */
const STORES: Array<{ file: string; read: (dir: string) => unknown; write: (dir: string) => unknown }> = [
  {
    file: 'trust.json',
    read: (dir) => new TrustStore(dir).list(),
    write: (dir) =>
      new TrustStore(dir).record('https://127.0.0.1:5000', { fingerprint256: FINGERPRINT, source: 'user' }),
  },
  {
    file: 'pacing.json',
    read: (dir) => new Pacer(fileLedger(dir), 'https://127.0.0.1:5000').decide('tickle'),
    write: (dir) => new Pacer(fileLedger(dir), 'https://127.0.0.1:5000').recordRateLimited(),
  },
  {
    file: 'recovery.json',
    read: (dir) => new RecoveryBudget(fileBudget(dir)).permission(Date.now()),
    write: (dir) => new RecoveryBudget(fileBudget(dir)).record(Date.now()),
  },
];

describe("state files that are not the keeper's", () => {
  for (const { file, read, write } of STORES) {
    for (const [what, text] of NOT_OURS) {
      test(`${file} holding ${what}: an error naming the file, and the file left as it is`, (t) => {
        const dir = tempDir(t);
        writeFileSync(path.join(dir, file), text);
        for (const step of [read, write]) {
          assert.throws(
            () => step(dir),
            (error: unknown) =>
              error instanceof UserError &&
              error.message.includes(path.join(dir, file)) &&
              /fix it or delete the file/.test(error.message),
          );
        }
        assert.equal(readFileSync(path.join(dir, file), 'utf8'), text, 'never reset');
      });
    }
    test(`${file} over 1 MB is refused, not read`, (t) => {
      const dir = tempDir(t);
      const big = `{"version":1${' '.repeat(1_100_000)}}`;
      writeFileSync(path.join(dir, file), big);
      assert.throws(
        () => read(dir),
        pattern(
          /is 1\.0 MB, more than the 1\.0 MB a keeper's file can be: /,
          /it is not one the keeper wrote; move it away or delete it/,
        ),
      );
      assert.equal(readFileSync(path.join(dir, file), 'utf8').length, big.length);
    });
    test(`${file} as a symbolic link: read through, never written through`, (t) => {
      const dir = tempDir(t);
      const elsewhere = path.join(tempDir(t), 'elsewhere.json');
      writeFileSync(elsewhere, '{}');
      symlinkSync(elsewhere, path.join(dir, file));
      read(dir);
      assert.throws(
        () => write(dir),
        new RegExp(
          `${file.replace('.', '\\.')} is a symbolic link: the keeper writes only its own files, never through a link`,
        ),
      );
      assert.equal(readFileSync(elsewhere, 'utf8'), '{}');
    });
  }

  test('an empty object is an empty store (nothing was lost), and a write then fills it', (t) => {
    const dir = tempDir(t);
    writeFileSync(path.join(dir, 'trust.json'), '{}');
    assert.deepEqual(new TrustStore(dir).list(), {});
    new TrustStore(dir).record('https://127.0.0.1:5000', { fingerprint256: FINGERPRINT, source: 'user' });
    assert.equal(new TrustStore(dir).get('https://127.0.0.1:5000')?.fingerprint256, FINGERPRINT);
  });

  test('a directory where a file belongs is named', (t) => {
    const dir = tempDir(t);
    mkdirSync(path.join(dir, 'trust.json'));
    assert.throws(
      () => new TrustStore(dir).list(),
      /trust\.json is not a file: move it away or choose another --config-dir/,
    );
  });
});

describe('settings.json', () => {
  for (const [what, text] of NOT_OURS.slice(0, 4)) {
    test(`holding ${what}: an error naming it, never the defaults written over it`, (t) => {
      const dir = tempDir(t);
      writeFileSync(path.join(dir, 'settings.json'), text);
      const file = SettingsFile.open(dir);
      assert.throws(
        () => file.read(),
        /settings\.json holds .* where the keeper keeps a JSON object: fix it or delete the file/,
      );
      assert.throws(() => file.write({ intervalSeconds: 30 }), /settings\.json holds/);
      assert.equal(readFileSync(path.join(dir, 'settings.json'), 'utf8'), text);
    });
  }

  test('reading writes nothing; a save writes the saved keys and keeps every other key as it is', (t) => {
    const dir = tempDir(t);
    const file = SettingsFile.open(dir);
    assert.equal(file.read().settings.gateway, DEFAULT_SETTINGS.gateway);
    assert.throws(() => readFileSync(path.join(dir, 'settings.json')), /ENOENT/, 'no file made by reading');
    writeFileSync(
      path.join(dir, 'settings.json'),
      JSON.stringify({ intervalSeconds: -5, theme: 'dark', __internal__: { migrations: { version: '0.1.0' } } }),
    );
    file.write({ launchAtLogin: true });
    assert.deepEqual(JSON.parse(readFileSync(path.join(dir, 'settings.json'), 'utf8')), {
      intervalSeconds: -5,
      theme: 'dark',
      __internal__: { migrations: { version: '0.1.0' } },
      launchAtLogin: true,
    });
  });

  test('a symbolic link is not written through', (t) => {
    const dir = tempDir(t);
    const elsewhere = path.join(tempDir(t), 'x.json');
    writeFileSync(elsewhere, '{}');
    symlinkSync(elsewhere, path.join(dir, 'settings.json'));
    assert.throws(() => SettingsFile.open(dir).write({ intervalSeconds: 30 }), /settings\.json is a symbolic link/);
    assert.equal(readFileSync(elsewhere, 'utf8'), '{}');
  });
});

describe('history and the config folder', () => {
  const transition = {
    time: new Date().toISOString(),
    state: 'ready' as const,
    previous: 'starting' as const,
    reason: 'r',
    facts: {},
  };

  test('history.jsonl as a symbolic link is never appended to', (t) => {
    const dir = tempDir(t);
    const elsewhere = path.join(tempDir(t), 'notes.txt');
    writeFileSync(elsewhere, 'mine\n');
    symlinkSync(elsewhere, path.join(dir, 'history.jsonl'));
    assert.throws(() => new History(dir).append(transition), /history\.jsonl is a symbolic link/);
    assert.equal(readFileSync(elsewhere, 'utf8'), 'mine\n');
  });

  test('a history that cannot be read, or is far too large, is a UserError naming it', (t) => {
    const dir = tempDir(t);
    mkdirSync(path.join(dir, 'history.jsonl'));
    assert.throws(
      () => new History(dir).read(),
      (e: unknown) =>
        e instanceof UserError && /Could not read the history in .*history\.jsonl \(EISDIR\)/.test(e.message),
    );
    const other = tempDir(t);
    writeFileSync(path.join(other, 'history.jsonl'), 'x'.repeat(5 * 1_048_576));
    assert.throws(
      () => new History(other).read(),
      /history\.jsonl is 5\.0 MB, far more than the keeper's history grows to/,
    );
  });

  test("--config-dir '' is refused, not taken for the default folder", () => {
    assert.throws(
      () => resolveConfigDir(''),
      (e: unknown) => e instanceof UserError && e.exitCode === 2 && /--config-dir is empty/.test(e.message),
    );
    assert.throws(() => resolveConfigDir('  '), /--config-dir is empty/);
    assert.equal(resolveConfigDir(undefined, { IBKR_KEEPER_CONFIG_DIR: '/x' }), '/x');
  });
});
