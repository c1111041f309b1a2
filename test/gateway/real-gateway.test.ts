/**
 * The gateway tools against IBKR's real Client Portal Gateway (test/real-gateway.ts): Access
 * Denied explained from conf.yaml, `gateway certificate` end to end and its errors, `doctor` on a
 * broken and on a good setup. The gateway here cannot reach IBKR: API requests are accepted and
 * never answered, so even a good setup cannot log in, and `doctor` says so (exit 10).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { probeCertificate } from '../../main/session/tls.ts';
import { pattern, runCli, startSim, tempDir } from '../helpers.ts';
import { copyGateway, editConf, freePort, startGateway, STOCK_FINGERPRINT } from '../real-gateway.ts';

const json = (stdout: string): any => JSON.parse(stdout.trim().split('\n').at(-1)!);
/** The allow list, replaced. */
const setIps = (dir: string, ips: string): void => editConf(dir, (text) => text.replace(/^ips:\n(?:\s+.*\n?)*/m, ips));
/** What a failed command must leave: root/ as it was, file by file. */
const snapshot = (dir: string): Record<string, string> =>
  Object.fromEntries(
    readdirSync(path.join(dir, 'root'), { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => [e.name, readFileSync(path.join(dir, 'root', e.name), 'latin1')]),
  );

describe('the gateway tools, against the real gateway', { timeout: 240_000 }, () => {
  test(
    'Access Denied (127.0.0.1 not allowed) is explained from conf.yaml; doctor fails on it and on the stock ' +
      'certificate',
    async (t) => {
      const dir = copyGateway(t, await freePort());
      setIps(dir, 'ips:\n  allow:\n    - 10.0.0.*\n    - localhost\n  deny:\n    - 212.90.324.10\n');
      const gw = await startGateway(t, dir);
      const config = tempDir(t);
      const base = ['--gateway', gw.url, '--config-dir', config, '--timeout', '3'];

      const plain = await runCli(['status', ...base, '--json']);
      assert.equal(plain.code, 6, plain.stderr);
      assert.equal(json(plain.stdout).state, 'gateway-down');
      assert.match(
        json(plain.stdout).reason,
        /refuses 127\.0\.0\.1, this computer as the gateway sees it \(Access Denied\).*--gateway-dir DIR/,
      );

      const explained = await runCli(['status', ...base, '--json', '--gateway-dir', dir]);
      assert.equal(explained.code, 6, explained.stderr);
      const reason: string = json(explained.stdout).reason;
      assert.match(
        reason,
        /^The gateway refuses 127\.0\.0\.1 \(Access Denied\): no pattern of its allow list matches it\./,
      );
      assert.match(reason, /cannot use "localhost" in allow/);
      assert.ok(
        reason.endsWith(
          `Add the line "- 127.0.0.1" under "ips: allow:" ` +
            `in ${path.join(dir, 'root/conf.yaml')} and restart the gateway.`,
        ),
        reason,
      );
      // The gateway's own log names the same address.
      assert.match(
        readdirSync(path.join(dir, 'logs'))
          .map((f) => readFileSync(path.join(dir, 'logs', f), 'utf8'))
          .join(''),
        /ipv4 address 127\.0\.0\.1 is forbidden/,
      );

      const doctor = await runCli(['doctor', '--config-dir', config, '--timeout', '3', '--gateway-dir', dir]);
      assert.equal(doctor.code, 10, doctor.stdout + doctor.stderr);
      assert.match(
        doctor.stdout,
        new RegExp(`^ibkr-keeper doctor: ${gw.url}, gateway folder ${dir}\n`),
        'the URL comes from conf.yaml',
      );
      assert.match(
        doctor.stdout,
        pattern(
          /\n✗ certificate: the gateway presents IBKR's stock certificate \(SHA-256 /,
          /13:DA:.*publicly known.*Fix: .*ibkr-keeper gateway certificate --dir /,
        ),
      );
      assert.match(
        doctor.stdout,
        pattern(
          /\n✗ allow list: The gateway refuses 127\.0\.0\.1 \(Access /,
          /Denied\).* Fix: Add the line "- 127\.0\.0\.1" under "ips: allow:"/,
        ),
      );
      assert.match(doctor.stdout, /\n✓ Java: Java \d/);
      assert.match(doctor.stdout, /\n2 checks failed/);
      for (const line of doctor.stdout.trim().split('\n').slice(1, -1))
        assert.match(line, /^[✓✗-] [\w. ]+: /, 'one line per check');
      const report = json(
        (await runCli(['doctor', '--config-dir', config, '--timeout', '3', '--gateway-dir', dir, '--json'])).stdout,
      );
      assert.equal(report.ok, false);
      assert.deepEqual(Object.fromEntries(report.checks.map((c: { id: string; status: string }) => [c.id, c.status])), {
        java: 'pass',
        folder: 'pass',
        conf: 'pass',
        port: 'pass',
        ipv4: 'pass',
        certificate: 'fail',
        pin: 'pass',
        allowList: 'fail',
        answers: 'pass',
        session: 'skip',
      });
    },
  );

  test(
    'gateway certificate: a new keystore in conf.yaml, backed up; after a restart the gateway presents it ' +
      'and status trusts it without a prompt; doctor on this good setup',
    async (t) => {
      const dir = copyGateway(t, await freePort());
      const config = tempDir(t);
      let gw = await startGateway(t, dir);
      const base = ['--gateway', gw.url, '--config-dir', config, '--timeout', '2'];
      const first = await runCli(['status', ...base]);
      assert.match(
        first.stderr,
        new RegExp(`Trusted the certificate of ${gw.url} on first use: SHA-256 ${STOCK_FINGERPRINT}`),
      );
      const before = readFileSync(path.join(dir, 'root/conf.yaml'), 'utf8');

      const made = await runCli(['gateway', 'certificate', '--dir', dir, '--config-dir', config, '--json']);
      assert.equal(made.code, 0, made.stderr);
      const result = json(made.stdout);
      assert.equal(result.changed, true);
      assert.equal(result.restartNeeded, true, 'the running gateway still presents the stock certificate');
      assert.equal(result.keystoreType, 'JKS');
      assert.notEqual(result.fingerprint256, STOCK_FINGERPRINT);
      assert.equal(result.gateway, gw.url);
      assert.deepEqual(result.origins, [gw.url, `https://127.0.0.1:${gw.port}`]);
      assert.equal(readFileSync(result.backup, 'utf8'), before, 'the backup is conf.yaml as it was');
      assert.match(path.basename(result.backup), /^conf\.yaml\.bak-\d{8}-\d{6}$/);
      const after = readFileSync(path.join(dir, 'root/conf.yaml'), 'utf8');
      const added = after.split('\n').filter((line) => !before.split('\n').includes(line));
      assert.equal(added.length, 2, after);
      assert.match(added[0]!, new RegExp(`^sslCert: "${path.basename(result.keystore)}"$`));
      assert.match(added[1]!, /^sslPwd: "[\w-]{32}"$/);
      assert.equal(after.replace(`${added[0]}\n${added[1]}\n`, ''), before, 'every other line as it was, in its place');
      assert.ok(!made.stdout.includes(added[1]!.slice(9, -1)), 'the password is not printed');
      const trust = JSON.parse(readFileSync(path.join(config, 'trust.json'), 'utf8'));
      assert.equal(trust.pins[gw.url].fingerprint256, result.fingerprint256);
      assert.equal(trust.pins[gw.url].source, 'user');

      await gw.stop();
      gw = await startGateway(t, dir);
      const presented = await probeCertificate('127.0.0.1', gw.port, 3_000);
      assert.equal(
        presented.fingerprint256,
        result.fingerprint256,
        'after a restart the gateway presents the new certificate',
      );
      assert.match(presented.pem, /BEGIN CERTIFICATE/);
      const status = await runCli(['status', ...base, '--json']);
      assert.equal(json(status.stdout).state, 'gateway-down', status.stdout);
      assert.match(json(status.stdout).reason, /did not answer|may not reach IBKR/);
      assert.doesNotMatch(status.stderr, /on first use/, 'trusted without a prompt');
      assert.equal(
        JSON.parse(readFileSync(path.join(config, 'trust.json'), 'utf8')).pins[gw.url].fingerprint256,
        result.fingerprint256,
      );

      // A good setup, as good as it gets here: everything local passes; the gateway cannot reach IBKR.
      const doctor = await runCli(['doctor', '--config-dir', config, '--timeout', '2', '--gateway-dir', dir, '--json']);
      assert.equal(doctor.code, 10, doctor.stdout + doctor.stderr);
      const checks = Object.fromEntries(json(doctor.stdout).checks.map((c: { id: string }) => [c.id, c]));
      for (const id of ['java', 'folder', 'conf', 'port', 'ipv4', 'certificate', 'pin', 'allowList'])
        assert.equal(checks[id].status, 'pass', `${id}: ${checks[id].detail}`);
      assert.match(checks['certificate'].detail, /a certificate of its own/);
      assert.equal(checks['answers'].status, 'fail');
      assert.match(
        checks['answers'].detail,
        /did not answer within 2 s: it may not reach IBKR \(is this computer online\?\)/,
      );
      assert.equal(checks['session'].status, 'skip');
    },
  );

  test('gateway certificate errors change nothing: no keytool, not a gateway folder, a broken conf.yaml', async (t) => {
    const dir = copyGateway(t, await freePort());
    const config = tempDir(t);
    const untouched = snapshot(dir);
    const nowhere = tempDir(t);

    const noJava = await runCli(['gateway', 'certificate', '--dir', dir, '--config-dir', config], {
      env: { PATH: nowhere, JAVA_HOME: nowhere },
    });
    assert.equal(noJava.code, 2, noJava.stderr);
    assert.match(
      noJava.stderr,
      new RegExp(
        `No Java found: JAVA_HOME \\(${nowhere}\\) has no bin/java and no java is on the PATH\\. Install Java ` +
          `8u192 or later .*Nothing was changed\\.`,
      ),
    );
    assert.deepEqual(snapshot(dir), untouched);

    const notFolder = await runCli(['gateway', 'certificate', '--dir', nowhere, '--config-dir', config, '--json']);
    assert.equal(notFolder.code, 2);
    assert.equal(json(notFolder.stdout).changed, false);
    assert.match(
      json(notFolder.stdout).error,
      pattern(
        /is not a Client Portal Gateway folder: it has no bin\/run\.sh /,
        /or bin\/run\.bat, no root\/conf\.yaml, no dist\/\*\.jar/,
      ),
    );

    for (const [broken, message] of [
      ['listenPort: [5000\n', /conf\.yaml is not valid YAML \(line \d+, column \d+\)/],
      ['listenPort: 5000\nsslPassword: "x"\n', /has the key "sslPassword", which the gateway does not know/],
      ['listenPort: "soon"\n', /"listenPort" must be a port number from 1 to 65535 \(found "soon"\)/],
    ] as const) {
      writeFileSync(path.join(dir, 'root/conf.yaml'), broken);
      const before = snapshot(dir);
      const result = await runCli(['gateway', 'certificate', '--dir', dir, '--config-dir', config]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
      assert.deepEqual(snapshot(dir), before, 'nothing changed');
    }
    assert.equal(readdirSync(config).includes('trust.json'), false, 'nothing pinned');
  });

  test(
    'doctor with the gateway stopped: the port to start, the stock certificate read from its keystore, the ' +
      'rest not asked',
    async (t) => {
      const dir = copyGateway(t, await freePort());
      const config = tempDir(t);
      const doctor = await runCli(['doctor', '--config-dir', config, '--timeout', '2', '--gateway-dir', dir]);
      assert.equal(doctor.code, 10, doctor.stdout + doctor.stderr);
      assert.match(
        doctor.stdout,
        /\n✗ port: nothing accepts connections on 127\.0\.0\.1:\d+ \(refused\)\. Fix: Start the gateway: cd /,
      );
      assert.ok(doctor.stdout.includes(`Start the gateway: cd ${dir} && bin/run.sh root/conf.yaml`), doctor.stdout);
      assert.match(
        doctor.stdout,
        /\n✗ certificate: its keystore \(.*root\/vertx\.jks\) holds IBKR's stock certificate/,
      );
      assert.match(
        doctor.stdout,
        pattern(
          /\n✓ allow list: .*admits 127\.0\.0\.1 \(allow pattern /,
          /"127\.0\.0\.1"\)\. It cannot use "host\.docker\.internal"/,
        ),
      );
      assert.match(doctor.stdout, /\n- answers: not asked/);
      editConf(dir, (text) => `${text}\nlistenSsl: "maybe"\n`.replace(/^listenSsl: true\n/m, ''));
      // The settings name another gateway (a simulator here): with its folder's conf.yaml broken, the
      // gateway's address is unknown, and doctor sends nothing to the settings' one.
      const other = await startSim(t);
      writeFileSync(path.join(config, 'settings.json'), JSON.stringify({ gateway: other.url }));
      const broken = await runCli(['doctor', '--config-dir', config, '--timeout', '2', '--gateway-dir', dir, '--json']);
      assert.equal(broken.code, 10);
      const checks = json(broken.stdout).checks as Array<{ id: string; status: string; detail: string }>;
      const conf = checks.find((c) => c.id === 'conf')!;
      assert.equal(conf.status, 'fail');
      assert.match(conf.detail, /conf\.yaml: "listenSsl" must be true or false \(found "maybe"\)/);
      const port = checks.find((c) => c.id === 'port')!;
      assert.equal(port.status, 'skip');
      assert.match(port.detail, /^not checked: the gateway's address comes from its folder's conf\.yaml/);
      assert.deepEqual(other.requests(), [], 'nothing sent to the gateway of the settings');
      rmSync(path.join(config, 'settings.json'));
      // A free port, not 5000: a gateway or simulator of the user's may listen there.
      const v6Port = await freePort();
      const v6 = json(
        (
          await runCli([
            'doctor',
            '--gateway',
            `https://[::1]:${v6Port}`,
            '--config-dir',
            config,
            '--timeout',
            '2',
            '--json',
          ])
        ).stdout,
      );
      const ipv4 = v6.checks.find((c: { id: string }) => c.id === 'ipv4');
      assert.equal(ipv4.status, 'fail');
      assert.match(ipv4.detail, /IPv6, and the gateway listens on IPv4 only/);
      assert.match(ipv4.fix, new RegExp(`Use --gateway https://127\\.0\\.0\\.1:${v6Port}`));
      const notFolder = await runCli(['status', '--config-dir', config, '--gateway-dir', config]);
      assert.equal(notFolder.code, 2, "a --gateway-dir that is not the gateway's folder is bad input");
      assert.match(notFolder.stderr, /is not a Client Portal Gateway folder/);
      assert.equal(readdirSync(config).includes('trust.json'), false, 'doctor pinned nothing: nothing was sent');
    },
  );
});
