/**
 * Bad files in the config folder, end to end: `status`, `watch` and `history` name the file and
 * never crash (no exit 1, no stack trace), and the file is left exactly as it was.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { NOT_OURS, ROOT, runCli, startSim, tempDir } from '../helpers.ts';

/** A folder with `file` holding `text`, and the certificate already trusted where that is not the file under test. */
function folderWith(t: TestContext, file: string, text: string): string {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, file), text);
  return dir;
}

/** Runs `watch` for a few seconds; its exit code (null while it ran on) and stderr. */
async function watchBriefly(
  t: TestContext,
  args: string[],
  ms = 4_000,
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/ibkr-keeper.js'), 'watch', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const early = await Promise.race([exited, sleep(ms).then(() => 'running' as const)]);
  if (early !== 'running') return { code: early, stderr, stdout };
  child.kill('SIGTERM');
  assert.equal(await exited, 0, 'SIGTERM still ends it cleanly');
  return { code: null, stderr, stdout };
}

describe('status with a bad state file', () => {
  for (const file of ['trust.json', 'pacing.json']) {
    test(
      `${file} holding [], null, 42, "x" or the wrong shape: ` + `exit 2 naming the file, the file unchanged`,
      async (t) => {
        const sim = await startSim(t);
        const runs = NOT_OURS.map(async ([what, text]) => {
          const dir = folderWith(t, file, text);
          const result = await runCli(['status', '--gateway', sim.url, '--config-dir', dir]);
          assert.equal(result.code, 2, `${what}: ${result.stderr}`);
          assert.match(
            result.stderr,
            new RegExp(`^ibkr-keeper: ${path.join(dir, file).replace(/\./g, '\\.')} (holds|does not hold)`),
            what,
          );
          assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
          assert.equal(readFileSync(path.join(dir, file), 'utf8'), text, `${what}: never reset`);
        });
        await Promise.all(runs);
      },
    );
  }

  test('files status does not read (recovery.json, settings.json, history.jsonl) do not stop it', async (t) => {
    const sim = await startSim(t);
    const dir = tempDir(t);
    writeFileSync(path.join(dir, 'recovery.json'), '[]');
    writeFileSync(path.join(dir, 'settings.json'), '42');
    mkdirSync(path.join(dir, 'history.jsonl'));
    assert.equal((await runCli(['status', '--gateway', sim.url, '--config-dir', dir])).code, 0);
  });

  test('a symlinked pacing.json is not written through: exit 2 naming it, the target unchanged', async (t) => {
    const sim = await startSim(t);
    const dir = tempDir(t);
    const target = path.join(tempDir(t), 'somewhere.json');
    writeFileSync(target, '{}');
    symlinkSync(target, path.join(dir, 'pacing.json'));
    const result = await runCli(['status', '--gateway', sim.url, '--config-dir', dir]);
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /pacing\.json is a symbolic link: the keeper writes only its own files, never through a link/,
    );
    assert.equal(readFileSync(target, 'utf8'), '{}');
  });

  test("--config-dir '' exits 2 for status, watch and history", async () => {
    for (const command of [['status'], ['watch'], ['history'], ['trust', 'list']]) {
      const result = await runCli([...command, '--config-dir', '']);
      assert.equal(result.code, 2, command.join(' '));
      assert.match(
        result.stderr,
        /--config-dir is empty: give a folder, or leave the flag out to use the default one\./,
      );
    }
  });
});

describe('watch with a bad state file', () => {
  test(
    'trust.json, pacing.json, recovery.json holding []: it runs on in keeper-error naming the file, leaves ' +
      'it alone',
    async (t) => {
      const sim = await startSim(t);
      const results = await Promise.all(
        ['trust.json', 'pacing.json', 'recovery.json'].map(async (file) => {
          const dir = folderWith(t, file, '[]');
          const result = await watchBriefly(t, ['--interval', '1', '--gateway', sim.url, '--config-dir', dir]);
          return { file, dir, ...result };
        }),
      );
      for (const { file, dir, code, stderr, stdout } of results) {
        assert.equal(code, null, `${file}: watch did not exit (${stderr})`);
        assert.match(
          stdout,
          new RegExp(`keeper-error: The keeper cannot keep the session: .*${file.replace('.', '\\.')} holds \\[\\]`),
          `${file}: the state says it`,
        );
        assert.ok(
          stderr.includes(`${path.join(dir, file)} holds [] (a list) where the keeper keeps a JSON object`),
          `${file}: ${stderr}`,
        );
        assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
        assert.equal(readFileSync(path.join(dir, file), 'utf8'), '[]', `${file}: never reset`);
      }
    },
  );

  test('a recovery.json of 2 MB is refused with its size, not read', async (t) => {
    const sim = await startSim(t);
    const dir = folderWith(t, 'recovery.json', `{"version":1,"attempts":[],"drop":null${' '.repeat(2 * 1_048_576)}}`);
    const { code, stderr } = await watchBriefly(t, ['--interval', '1', '--gateway', sim.url, '--config-dir', dir]);
    assert.equal(code, null);
    assert.match(stderr, /recovery\.json is 2\.0 MB, more than the 1\.0 MB a keeper's file can be/);
  });

  test('settings.json that is not an object: exit 2 naming it, before anything is sent', async (t) => {
    const sim = await startSim(t);
    const dir = folderWith(t, 'settings.json', 'null');
    const { code, stderr } = await watchBriefly(t, ['--config-dir', dir, '--gateway', sim.url]);
    assert.equal(code, 2);
    assert.match(stderr, /settings\.json holds null where the keeper keeps a JSON object: fix it or delete the file/);
    assert.equal(sim.requests().length, 0);
    assert.equal(readFileSync(path.join(dir, 'settings.json'), 'utf8'), 'null');
  });

  test('a broken settings.json: doctor, gateway certificate, start and status name it and exit 2', async (t) => {
    const dir = folderWith(t, 'settings.json', '{"gatewayDir": ');
    const settings = path.join(dir, 'settings.json').replace(/\./g, '\\.');
    for (const command of [
      ['doctor', '--timeout', '1', '--gateway', 'https://127.0.0.1:9'],
      ['doctor', '--timeout', '1', '--json'],
      ['gateway', 'certificate'],
      ['gateway', 'certificate', '--json'],
      ['gateway', 'start'],
      ['gateway', 'status', '--json'],
    ]) {
      const result = await runCli([...command, '--config-dir', dir]);
      const what = command.join(' ');
      assert.equal(result.code, 2, `${what}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, new RegExp(`^ibkr-keeper: Could not read ${settings} \\(`), what);
      assert.match(result.stderr, /fix or delete the file, or choose another --config-dir\.\n$/, what);
      // With --json, whatever is printed on stdout is JSON naming the file too (never a line of text).
      if (command.includes('--json') && result.stdout !== '')
        assert.match(JSON.parse(result.stdout).error, /settings\.json/, what);
    }
    assert.equal(readFileSync(path.join(dir, 'settings.json'), 'utf8'), '{"gatewayDir": ', 'left as it was');
  });

  test('watch writes no settings.json of its own', async (t) => {
    const sim = await startSim(t);
    const dir = tempDir(t);
    await watchBriefly(t, ['--interval', '1', '--gateway', sim.url, '--config-dir', dir], 2_500);
    assert.throws(() => readFileSync(path.join(dir, 'settings.json')), /ENOENT/);
  });

  test('a symlinked history.jsonl is not appended to; watch says so and goes on', async (t) => {
    const sim = await startSim(t);
    const dir = tempDir(t);
    const target = path.join(tempDir(t), 'notes.txt');
    writeFileSync(target, 'mine\n');
    symlinkSync(target, path.join(dir, 'history.jsonl'));
    const { code, stderr, stdout } = await watchBriefly(
      t,
      ['--interval', '1', '--gateway', sim.url, '--config-dir', dir],
      3_000,
    );
    assert.equal(code, null);
    assert.match(stdout, /ready: /);
    assert.match(stderr, /Could not write the history to .*history\.jsonl \(.*history\.jsonl is a symbolic link/);
    assert.equal(readFileSync(target, 'utf8'), 'mine\n');
  });
});

describe('history with a bad file', () => {
  test('state files it does not read change nothing; an unreadable or huge history exits 2 naming it', async (t) => {
    const dir = tempDir(t);
    for (const file of ['trust.json', 'pacing.json', 'recovery.json', 'settings.json'])
      writeFileSync(path.join(dir, file), '[]');
    const fine = await runCli(['history', '--config-dir', dir]);
    assert.equal(fine.code, 0);
    assert.match(fine.stdout, /No changes of state recorded/);
    mkdirSync(path.join(dir, 'history.jsonl'));
    const unreadable = await runCli(['history', '--config-dir', dir]);
    assert.equal(unreadable.code, 2);
    assert.match(
      unreadable.stderr,
      /^ibkr-keeper: Could not read the history in .*history\.jsonl \(EISDIR\): fix or delete the file\.\n$/,
    );
    const huge = tempDir(t);
    writeFileSync(path.join(huge, 'history.jsonl'), `${'{}\n'.repeat(2 * 1_048_576)}`);
    const big = await runCli(['history', '--config-dir', huge]);
    assert.equal(big.code, 2);
    assert.match(
      big.stderr,
      /history\.jsonl is 6\.0 MB, far more than the keeper's history grows to: move it away or delete it/,
    );
  });
});
