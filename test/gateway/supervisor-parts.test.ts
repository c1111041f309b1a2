/**
 * The supervisor's parts that need no gateway: the launch command of run.sh and run.bat, the
 * lines that say why it stopped, its banner, and the log watcher following the date (in virtual time).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { lastLines, parseBanner, tellingLine } from '../../main/gateway/console-log.ts';
import { GatewayLogWatcher, gatewayLogFile, type GatewayLogEvent } from '../../main/gateway/log-watch.ts';
import {
  GATEWAY_MAIN_CLASS,
  isGatewayProcess,
  launchCommand,
  processAlive,
  readRecord,
  writeRecord,
} from '../../main/gateway/process.ts';
import { VirtualTime } from '../../main/simulator/virtual-time.ts';
import { runCli, tempDir } from '../helpers.ts';
import { copyGateway, freePort } from '../real-gateway.ts';

describe('supervisor parts', () => {
  test("the launch command is run.sh's java command (run.bat's on Windows), from the gateway's folder", () => {
    const unix = launchCommand({ dir: '/gw', root: '/gw/root' }, '/usr/bin/java', 'linux');
    assert.equal(unix.cwd, '/gw');
    assert.equal(unix.command, '/usr/bin/java');
    assert.deepEqual(unix.args.slice(-5), [
      '-cp',
      'root:dist/ibgroup.web.core.iblink.router.clientportal.gw.jar:build/lib/runtime/*',
      'ibgroup.web.core.clientportal.gw.GatewayStart',
      '--conf',
      '../root/conf.yaml',
    ]);
    assert.ok(unix.args.includes('-Djava.net.preferIPv4Stack=true'));
    const win = launchCommand({ dir: 'C:\\gw', root: 'C:\\gw\\root' }, 'C:\\java\\bin\\java.exe', 'win32');
    assert.deepEqual(win.args.slice(-3), [
      '-classpath',
      'C:\\gw\\root\\;dist\\ibgroup.web.core.iblink.router.clientportal.gw.jar;build\\lib\\runtime\\*',
      'ibgroup.web.core.clientportal.gw.GatewayStart',
    ]);
  });

  test('the line that says why it stopped, and the build from its banner', () => {
    const crash = lastLines(
      'Exception in thread "main" Cannot create property=fooBar\n in \'reader\', line 1, column 1:\n    ip2loc: ' +
        '"US"\n    ^\nUnable to find property \'fooBar\' on class: ibgroup.web.core.clientportal.gw.Config\n in ' +
        "'reader', line 35, column 9:\n    fooBar: 1\n            ^\n",
    );
    assert.equal(
      tellingLine(crash),
      "Unable to find property 'fooBar' on class: ibgroup.web.core.clientportal.gw.Config",
    );
    assert.equal(
      tellingLine([
        'Open https://localhost:5000 to login',
        'Server listen failed Address already in use',
        '\tat io.vertx.core.Foo(Foo.java:1)',
      ]),
      'Server listen failed Address already in use',
    );
    assert.equal(tellingLine(['just this']), 'just this');
    // A gateway killed after a normal start: its last line is the start's, which says nothing of why.
    assert.equal(
      tellingLine([
        'Open https://localhost:5000 to login',
        'App demo is available after you login under: https://localhost:5000/demo#/',
      ]),
      undefined,
    );
    assert.deepEqual(
      parseBanner('****\nversion: a27ed42161ad96c53e715ca5c5e3e3fa4cff5262 Mon, 24 Apr 2023 15:41:53 -0400\n****'),
      { build: 'a27ed42', buildDate: 'Mon, 24 Apr 2023 15:41:53 -0400' },
    );
  });

  test(
    'the log watcher reports only new lines that matter, ' + "and follows the next day's file from its start",
    async (t) => {
      const dir = tempDir(t);
      mkdirSync(path.join(dir, 'logs'));
      const start = new Date(2026, 10, 29, 23, 59, 0).getTime(); // local time, as the gateway names its files
      const time = new VirtualTime(start);
      appendFileSync(gatewayLogFile(dir, start), 'old Client login succeeds\n');
      const events: GatewayLogEvent[] = [];
      const watcher = new GatewayLogWatcher({ dir, clock: time, scheduler: time, onEvent: (e) => void events.push(e) });
      watcher.start();
      await time.runFor(1_000);
      assert.equal(events.length, 0, 'what was there before is not news');
      appendFileSync(gatewayLogFile(dir, start), 'nothing\nauthentication to cp failed, retry 1\npartial Client login');
      await time.runFor(1_000);
      assert.deepEqual(
        events.map((e) => e.kind),
        ['auth-failed'],
      );
      appendFileSync(gatewayLogFile(dir, start), ' succeeds\n');
      await time.runFor(1_000);
      assert.deepEqual(
        events.map((e) => e.kind),
        ['auth-failed', 'login'],
        'a line written in two parts counts once complete',
      );
      await time.runFor(60_000); // past midnight
      const tomorrow = gatewayLogFile(dir, time.wall());
      assert.notEqual(tomorrow, gatewayLogFile(dir, start));
      appendFileSync(tomorrow, 'Reauthentication failed 5 times, stopping\n');
      await time.runFor(1_000);
      assert.deepEqual(
        events.map((e) => e.kind),
        ['auth-failed', 'login', 'reauth-stopped'],
      );
      assert.equal(watcher.file, tomorrow);
      watcher.stop();
    },
  );
});

describe('a stale record (its pid reused by another program, as after a reboot)', () => {
  test('is not taken for the gateway, with or without /proc; gateway stop signals nothing and says so', async (t) => {
    const spawnAlive = (args: string[]): number => {
      const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)', ...args], { stdio: 'ignore' });
      t.after(() => child.kill('SIGKILL'));
      return child.pid!;
    };
    const other = spawnAlive([]);
    const gatewayLike = spawnAlive([GATEWAY_MAIN_CLASS]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const procfs of [true, false]) {
      assert.equal(isGatewayProcess(other, { procfs }), false, `another program (procfs: ${procfs})`);
      assert.equal(isGatewayProcess(gatewayLike, { procfs }), true, `the gateway's main class (procfs: ${procfs})`);
    }

    const port = await freePort();
    const dir = copyGateway(t, port);
    const config = tempDir(t);
    const record = { pid: other, startedAt: new Date().toISOString(), dir, port, java: 'java', javaVersion: '17' };
    writeRecord(config, { ...record, consoleLog: path.join(config, 'console.log') });
    const stop = await runCli(['gateway', 'stop', '--dir', dir, '--config-dir', config]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(
      stop.stdout,
      `No gateway started by ibkr-keeper is running (its record named pid ${other}, which is not the gateway: ` +
        'removed).\n',
    );
    assert.ok(processAlive(other), 'the other program was not signalled');
    assert.equal(readRecord(config, port), undefined);
  });
});
