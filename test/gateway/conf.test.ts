/**
 * The gateway's folder and conf.yaml (main/gateway/conf.ts), Java's version, the YAML edit of
 * `gateway certificate`, and Access Denied explained from conf.yaml, through the client's hook.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { accessDeniedExplainer, explainAccessDenied } from '../../main/gateway/access-denied.ts';
import { fileStamp, setTopLevel } from '../../main/gateway/certificate.ts';
import {
  checkGatewayFolder,
  gatewayUrl,
  keystoreFile,
  parseGatewayConf,
  readGatewayConf,
} from '../../main/gateway/conf.ts';
import { javaVersionSupported, parseJavaVersion } from '../../main/gateway/java.ts';
import { checkSession } from '../../main/session/check.ts';
import { GatewayClient } from '../../main/session/gateway-client.ts';
import { memoryLedger } from '../../main/session/pacing.ts';
import { checkSettings, DEFAULT_SETTINGS } from '../../main/session/settings.ts';
import { TrustStore } from '../../main/session/trust-store.ts';
import { startSim, tempDir, pattern } from '../helpers.ts';
import { GATEWAY_SOURCE } from '../real-gateway.ts';

/** A folder laid out as the gateway's, with this conf.yaml. */
function fakeGateway(t: TestContext, conf: string): string {
  const dir = tempDir(t);
  for (const sub of ['bin', 'root', 'dist']) mkdirSync(path.join(dir, sub));
  writeFileSync(path.join(dir, 'bin/run.sh'), '#!/bin/bash\n');
  writeFileSync(path.join(dir, 'dist/gw.jar'), '');
  writeFileSync(path.join(dir, 'root/conf.yaml'), conf);
  return dir;
}

const STOCK_CONF = readFileSync(path.join(GATEWAY_SOURCE, 'root/conf.yaml'), 'utf8');
const withIps = (ips: string): string => STOCK_CONF.replace(/^ips:\n(?:\s+.*\n?)*/m, ips);

describe('the gateway folder', () => {
  test('the stock conf.yaml reads with the gateway defaults, and gives the URL', (t) => {
    const dir = fakeGateway(t, STOCK_CONF);
    const folder = checkGatewayFolder(dir);
    const { config } = readGatewayConf(folder.conf);
    assert.equal(config.listenPort, 5000);
    assert.equal(config.listenSsl, true);
    assert.equal(config.sslCert, 'vertx.jks', 'no sslCert: the stock keystore');
    assert.equal(config.sslCertDefault, true);
    assert.equal(config.sslPwd, 'mywebapi');
    assert.deepEqual(config.ips.deny, ['212.90.324.10']);
    assert.equal(config.ips.allow?.includes('127.0.0.1'), true);
    assert.equal(gatewayUrl(config), 'https://localhost:5000');
    writeFileSync(path.join(dir, 'root/vertx.jks'), 'x');
    assert.equal(
      keystoreFile(folder, config),
      path.join(dir, 'root/vertx.jks'),
      'a bare name is found in root/, on the class path',
    );
  });

  test('not a gateway folder: the message says what is missing and what is expected', (t) => {
    const dir = tempDir(t);
    assert.throws(
      () => checkGatewayFolder(dir),
      pattern(
        /is not a Client Portal Gateway folder: it has no bin\/run\.sh or bin\/run\.bat, /,
        /no root\/conf\.yaml, no dist\/\*\.jar \(expected .*clientportal\.gw\.zip\)/,
      ),
    );
    assert.throws(() => checkGatewayFolder(path.join(dir, 'nothing')), /does not exist: give the gateway's folder/);
    mkdirSync(path.join(dir, 'bin'));
    writeFileSync(path.join(dir, 'bin/run.bat'), '');
    assert.throws(() => checkGatewayFolder(dir), /it has no root\/conf\.yaml, no dist\/\*\.jar/);
  });

  test('the setting gatewayDir takes a gateway folder or null, and says what a folder lacks', (t) => {
    const dir = fakeGateway(t, STOCK_CONF);
    assert.deepEqual(checkSettings({ gatewayDir: dir }, DEFAULT_SETTINGS), {
      ok: true,
      settings: { ...DEFAULT_SETTINGS, gatewayDir: dir },
    });
    assert.equal(checkSettings({ gatewayDir: null }, DEFAULT_SETTINGS).ok, true);
    const refused = checkSettings({ gatewayDir: tempDir(t) }, DEFAULT_SETTINGS);
    assert.equal(refused.ok, false);
    assert.match(
      (refused as { errors: { gatewayDir?: string } }).errors.gatewayDir ?? '',
      /is not a Client Portal Gateway folder: it has no bin\/run\.sh/,
    );
  });

  test('a bad conf.yaml names the key and what it must be', () => {
    assert.throws(
      () => parseGatewayConf('listenPort: "five"\n', 'conf.yaml'),
      /conf\.yaml: "listenPort" must be a port number from 1 to 65535 \(found "five"\)/,
    );
    assert.throws(() => parseGatewayConf('listenPort: 70000\n', 'conf.yaml'), /"listenPort" must be a port number/);
    assert.throws(() => parseGatewayConf('listenSsl: maybe\n', 'conf.yaml'), /"listenSsl" must be true or false/);
    assert.throws(
      () => parseGatewayConf('fooBar: 1\n', 'conf.yaml'),
      /conf\.yaml has the key "fooBar", which the gateway does not know \(it refuses to start\)/,
    );
    assert.throws(() => parseGatewayConf('ips:\n', 'conf.yaml'), /"ips" must hold "allow:" and "deny:" lists/);
    assert.throws(() => parseGatewayConf('ips:\n  allow: 127.0.0.1\n', 'conf.yaml'), /"ips\.allow" must be a list/);
    assert.throws(
      () => parseGatewayConf('listenPort: [\n', 'conf.yaml'),
      /conf\.yaml is not valid YAML \(line \d+, column \d+\)/,
    );
    // YAML 1.1, as the gateway's SnakeYAML: `yes` is true; a numeric password is its text.
    const read = parseGatewayConf('listenSsl: yes\nsslPwd: 123456\n', 'conf.yaml').config;
    assert.equal(read.listenSsl, true);
    assert.equal(read.sslPwd, '123456');
    assert.deepEqual(parseGatewayConf('', 'conf.yaml').config.ips, { allow: null, deny: null });
  });

  test('the edit of conf.yaml keeps comments, order and every other line', () => {
    const source =
      `# my gateway\nip2loc: "US"\nlistenPort: 5000 # the port\nlistenSsl: true\nccp: ` +
      `false\nips:\n  allow:\n    - 127.0.0.1\n  deny: []\n`;
    const conf = parseGatewayConf(source, 'conf.yaml');
    setTopLevel(conf.document, 'sslCert', 'ibkr-keeper.jks', 'listenSsl');
    setTopLevel(conf.document, 'sslPwd', 'se:cret #1', 'sslCert');
    const edited = conf.document.toString();
    assert.equal(
      edited,
      source.replace('listenSsl: true\n', 'listenSsl: true\nsslCert: "ibkr-keeper.jks"\nsslPwd: "se:cret #1"\n'),
    );
    const again = parseGatewayConf(edited, 'conf.yaml');
    assert.equal(again.config.sslPwd, 'se:cret #1');
    setTopLevel(again.document, 'sslCert', 'other.jks');
    assert.match(
      again.document.toString(),
      /listenSsl: true\nsslCert: "other\.jks"\nsslPwd/,
      'an existing key is changed where it is',
    );
    assert.equal(
      parseGatewayConf(STOCK_CONF, 'conf.yaml').document.toString(),
      STOCK_CONF,
      'the stock file reads back unchanged',
    );
    assert.equal(fileStamp(new Date('2026-11-29T16:35:12.345Z')), '20261129-163512');
  });
});

describe('Java', () => {
  test('versions as java -version prints them; 8u192 or later', () => {
    const v = (text: string) => parseJavaVersion(text);
    assert.deepEqual(v('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment'), {
      text: '17.0.15',
      major: 17,
      update: 15,
    });
    assert.deepEqual(v('java version "1.8.0_192"\nJava(TM) SE Runtime Environment'), {
      text: '1.8.0_192',
      major: 8,
      update: 192,
    });
    assert.deepEqual(v('openjdk version "21" 2023-09-19'), { text: '21', major: 21, update: 0 });
    assert.deepEqual(v('openjdk version "11.0.2-ea" 2019-01-15'), { text: '11.0.2-ea', major: 11, update: 2 });
    assert.equal(v('no version here'), undefined);
    assert.equal(javaVersionSupported(v('java version "1.8.0_191"')!), false);
    assert.equal(javaVersionSupported(v('java version "1.8.0_192"')!), true);
    assert.equal(javaVersionSupported(v('java version "1.7.0_80"')!), false);
    assert.equal(javaVersionSupported(v('openjdk version "17.0.15"')!), true);
  });
});

describe('Access Denied explained', () => {
  const target = { hostname: 'localhost', port: 5000 };

  test('not in the allow list: the address the gateway sees and the line to add', (t) => {
    const dir = fakeGateway(
      t,
      withIps('ips:\n  allow:\n    - 10.0.0.*\n    - localhost\n  deny:\n    - 212.90.324.10\n'),
    );
    const reason = explainAccessDenied(dir, target);
    assert.match(
      reason,
      /^The gateway refuses 127\.0\.0\.1 \(Access Denied\): no pattern of its allow list matches it\./,
    );
    assert.match(reason, /cannot use "localhost" in allow \(host names are not supported/);
    assert.match(
      reason,
      new RegExp(
        `Add the line "- 127\\.0\\.0\\.1" under "ips: allow:" ` +
          `in ${path.join(dir, 'root/conf.yaml').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} and restart the gateway\\.$`,
      ),
    );
  });

  test('denied by a pattern, deny first: the pattern and the line to remove', (t) => {
    const dir = fakeGateway(t, withIps('ips:\n  allow:\n    - 127.0.0.1\n  deny:\n    - 127.0.*\n'));
    const reason = explainAccessDenied(dir, { hostname: '127.0.0.1', port: 5000 });
    assert.match(
      reason,
      pattern(
        /refuses 127\.0\.0\.1 \(Access Denied\): the pattern "127\.0\.\*" of its deny list matches /,
        /it, and deny is checked before allow\. Remove the line "- 127\.0\.\*" under "ips: deny:"/,
      ),
    );
  });

  test('admitted by conf.yaml: restart, or the host name in deny that makes the gateway reuse a pattern', (t) => {
    const admitted = fakeGateway(t, STOCK_CONF);
    assert.match(
      explainAccessDenied(admitted, target),
      /although .*conf\.yaml admits it \(by the allow pattern "127\.0\.0\.1"\)\. Restart the gateway so that it reads/,
    );
    const trap = fakeGateway(t, withIps('ips:\n  allow:\n    - 127.0.0.1\n  deny:\n    - localhost\n'));
    assert.match(
      explainAccessDenied(trap, target),
      pattern(
        /"localhost" under "ips: deny:" is not a pattern the /,
        /gateway understands.*Remove "- localhost" under "ips: deny:"/,
      ),
    );
    assert.match(
      explainAccessDenied(admitted, { hostname: 'localhost', port: 5001 }),
      /This conf\.yaml has listenPort 5000, not 5001/,
    );
  });

  test('without the folder, or with a folder that cannot be read: the rules, and --gateway-dir', (t) => {
    const general = accessDeniedExplainer(undefined)(target);
    assert.match(
      general,
      pattern(
        /refuses 127\.0\.0\.1, this computer as the gateway sees it /,
        /\(Access Denied\)\..*deny is checked first.*never CIDR/,
      ),
    );
    assert.match(general, /--gateway-dir DIR \(the gateway's folder\) tells the exact line to add\./);
    const broken = fakeGateway(t, 'ips: [\n');
    assert.match(explainAccessDenied(broken, target), /could not be read: .*conf\.yaml is not valid YAML/);
  });

  test('through the client: a 404 Access Denied is gateway-down with the explanation as its reason', async (t) => {
    const sim = await startSim(t);
    const dir = fakeGateway(t, withIps('ips:\n  allow:\n    - 10.0.0.1\n  deny: []\n'));
    const client = new GatewayClient({
      gateway: sim.url,
      trust: new TrustStore(tempDir(t)),
      pacing: memoryLedger(),
      now: () => sim.now(),
      timeoutMs: 3_000,
      explainAccessDenied: accessDeniedExplainer(dir),
    });
    t.after(() => client.close());
    await sim.apply({ type: 'access-denied' });
    const result = await checkSession(client);
    assert.equal(result.state, 'gateway-down');
    assert.match(
      result.reason,
      pattern(
        /^The gateway refuses 127\.0\.0\.1 \(Access Denied\): no pattern /,
        /of its allow list matches it\. Add the line "- 127\.0\.0\.1"/,
      ),
    );
  });
});
