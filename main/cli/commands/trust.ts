/**
 * `ibkr-keeper trust`: shows, records and forgets the certificate fingerprints the keeper trusts.
 * A loopback gateway's certificate is trusted on first use; a changed one is only trusted again
 * through `trust accept`; a remote gateway needs a valid chain or `trust accept --fingerprint`.
 */
import type { Command } from 'commander';
import { resolveConfigDir } from '../../session/config-dir.ts';
import { parseGatewayUrl } from '../../session/gateway-client.ts';
import {
  normalizeFingerprint,
  probeCertificate,
  publiclyKnownNotice,
  type CertificateInfo,
} from '../../session/tls.ts';
import { TrustStore } from '../../session/trust-store.ts';
import { gatewayOptions, type GatewayOptions } from '../context.ts';

interface TrustContext {
  readonly origin: string;
  readonly store: TrustStore;
  /** The certificate the gateway presents now, or why it could not be read. */
  presented(): Promise<CertificateInfo | { error: string }>;
}

/** What `trust` says of the shared options: it sends nothing but a TLS handshake, and reads no gateway folder. */
const TRUST_WORDS = { gatewayDir: false, configDir: 'where the trust file lives' } as const;

function context(options: GatewayOptions): TrustContext {
  const address = parseGatewayUrl(options.gateway);
  const store = new TrustStore(resolveConfigDir(options.configDir));
  return {
    origin: address.origin,
    store,
    presented: () =>
      probeCertificate(address.hostname, address.port, options.timeout * 1_000).catch(
        (error: NodeJS.ErrnoException) => ({
          error: `${address.origin} cannot be reached (${error.code ?? error.message})`,
        }),
      ),
  };
}

function out(options: Pick<GatewayOptions, 'json'>, lines: string[], json: Record<string, unknown>): void {
  process.stdout.write(options.json ? `${JSON.stringify(json)}\n` : `${lines.join('\n')}\n`);
}

export function registerTrustCommands(program: Command, exit: (code: number) => void): void {
  const trust = program
    .command('trust')
    .description("show, record or forget the gateway certificate's fingerprint the keeper trusts");

  const show = async (options: GatewayOptions): Promise<number> => {
    const { origin, store, presented } = context(options);
    const pin = store.get(origin);
    const seen = await presented();
    const presentedFp = 'error' in seen ? undefined : seen.fingerprint256;
    const matches = pin !== undefined && presentedFp === pin.fingerprint256;
    const lines = [`gateway:   ${origin}`];
    lines.push(
      pin
        ? `trusted:   SHA-256 ${pin.fingerprint256} ` +
            `(${pin.source === 'first-use' ? 'on first use' : 'by you'}, ${pin.recordedAt})`
        : 'trusted:   nothing yet',
    );
    lines.push(
      'error' in seen
        ? `presented: unknown: ${seen.error}`
        : `presented: SHA-256 ${seen.fingerprint256}${
            pin ? (matches ? ' (the trusted one)' : ' (NOT the trusted one)') : ''
          }`,
    );
    const notice = publiclyKnownNotice(presentedFp ?? pin?.fingerprint256);
    if (notice) lines.push(`note:      ${notice}`);
    if (pin && presentedFp && !matches)
      lines.push('If you reinstalled or reconfigured the gateway, run `ibkr-keeper trust accept`; otherwise do not.');
    if (!pin && presentedFp) {
      lines.push(
        parseGatewayUrl(options.gateway).loopback
          ? 'It will be trusted on first use.'
          : 'A remote gateway needs a valid chain, or `ibkr-keeper trust accept --fingerprint FP` after you ' +
              'checked FP.',
      );
    }
    out(options, lines, {
      gateway: origin,
      trusted: pin ? { fingerprint256: pin.fingerprint256, source: pin.source, recordedAt: pin.recordedAt } : null,
      presented: presentedFp ?? null,
      matches,
      publiclyKnown: notice !== undefined,
    });
    if ('error' in seen) return 6;
    return pin && !matches ? 8 : 0;
  };

  gatewayOptions(
    trust.command('show', { isDefault: true }).description('the trusted and the presented fingerprint (default)'),
    { ...TRUST_WORDS },
  ).action(async (options: GatewayOptions) => exit(await show(options)));

  gatewayOptions(
    trust
      .command('accept')
      .description('trust the certificate the gateway presents now, or the one with --fingerprint')
      .option('--fingerprint <sha256>', 'trust this SHA-256 fingerprint (64 hex digits, colons allowed)'),
    { ...TRUST_WORDS },
  ).action(async (options: GatewayOptions & { fingerprint?: string }) => {
    const { origin, store, presented } = context(options);
    const before = store.get(origin)?.fingerprint256;
    if (options.fingerprint !== undefined) {
      const fingerprint256 = normalizeFingerprint(options.fingerprint);
      store.record(origin, { fingerprint256, source: 'user' });
      out(
        options,
        [
          `Now trusting SHA-256 ${fingerprint256} ` +
            `for ${origin}${before && before !== fingerprint256 ? ` (instead of ${before})` : ''}.`,
        ],
        { gateway: origin, trusted: fingerprint256, previous: before ?? null },
      );
      return exit(0);
    }
    const seen = await presented();
    if ('error' in seen) {
      out(options, [`Nothing recorded: ${seen.error}.`], { gateway: origin, error: seen.error });
      return exit(6);
    }
    store.record(origin, { fingerprint256: seen.fingerprint256, pem: seen.pem, source: 'user' });
    // A subject of several parts (IBKR's has six) comes one per line from X509Certificate: keep one line.
    out(
      options,
      [
        `Now trusting SHA-256 ${seen.fingerprint256} ` +
          `(${seen.subject.split('\n').join(', ')}) ` +
          `for ${origin}${before && before !== seen.fingerprint256 ? ` (instead of ${before})` : ''}.`,
      ],
      {
        gateway: origin,
        trusted: seen.fingerprint256,
        previous: before ?? null,
      },
    );
    return exit(0);
  });

  gatewayOptions(trust.command('forget').description("forget the gateway's trusted fingerprint"), {
    ...TRUST_WORDS,
    timeout: false,
  }).action((options: GatewayOptions) => {
    const { origin, store } = context(options);
    const had = store.forget(origin);
    out(options, [had ? `Forgot the trusted certificate of ${origin}.` : `Nothing was trusted for ${origin}.`], {
      gateway: origin,
      forgotten: had,
    });
    exit(0);
  });

  trust
    .command('list')
    .description('every trusted gateway and fingerprint')
    .option(
      '--config-dir <dir>',
      'where the trust file lives (default: the platform config folder, or $IBKR_KEEPER_CONFIG_DIR)',
    )
    .option('--json', 'print one JSON object instead of lines')
    .action((options: Pick<GatewayOptions, 'configDir' | 'json'>) => {
      const store = new TrustStore(resolveConfigDir(options.configDir));
      const pins = store.list();
      const lines = Object.entries(pins).map(
        ([origin, pin]) =>
          `${origin}  SHA-256 ${pin.fingerprint256}  ` +
          `(${pin.source === 'first-use' ? 'first use' : 'by you'}, ${pin.recordedAt})`,
      );
      out(options, lines.length > 0 ? lines : [`No gateway is trusted yet (${store.path}).`], {
        pins: Object.fromEntries(
          Object.entries(pins).map(([origin, { fingerprint256, source, recordedAt }]) => [
            origin,
            { fingerprint256, source, recordedAt },
          ]),
        ),
      });
      exit(0);
    });
}
