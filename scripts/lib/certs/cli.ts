/** `npm run certs -- issue|renew|status`: the command line over certificates.ts (scripts/certs.mts only calls this). */
import { parseCliArgs, UsageError } from '../../../edge/shared/cli.js';
import {
  certificateStatus,
  clearLeftovers,
  issueCertificate,
  renewCertificate,
  type CertificateStatus,
  type RunResult,
} from './certificates.js';
import {
  ConfigError,
  DEFAULT_LOCK_WAIT_SECONDS,
  DEFAULT_RENEW_DAYS,
  loadCertsConfig,
  type CertsConfig,
} from './config.js';

const CERTS_USAGE = `usage: npm run certs -- <command> [options]

commands:
  issue [--force]  obtain a certificate now, unless a fresh one that covers the names exists (--force: even then)
  renew            obtain a new certificate only if the current one is missing, does not cover the names, does not
                   match its key or expires within the renewal window; otherwise say so and leave the CA alone
                   (run daily by the meet-cert-renewal timer on each host)
  status [--json]  names, issuer, validity, days left and whether renewal is due

One issue or renew runs at a time per certificate directory: a second one waits for the first (then usually
finds its fresh certificate) and gives up with exit 1 after MEET_CERT_LOCK_WAIT_SECONDS. Every command first
removes the temp files a run killed mid-write left behind.

options:
  --skip-self-check  do not fetch the challenge URL ourselves before the CA validates it, whatever
                     MEET_ACME_SELF_CHECK says: for test CAs (Pebble) whose names do not resolve publicly
  --help             show this help

environment:
  MEET_CERT_DOMAINS        the names to cover, comma-separated (required; the first is the common name)
  MEET_ACME_DIRECTORY      production (Let's Encrypt, default), staging (Let's Encrypt staging) or an https URL
  MEET_ACME_EMAIL          contact address for the ACME account (optional)
  MEET_ACME_SELF_CHECK     1 (default): fetch each challenge URL ourselves before the CA validates it, so a broken
                           set-up fails without spending a failed validation; 0: do not (hosts that cannot reach
                           their own public address)
  MEET_CERTS_DIR           where cert.crt (chain) and cert.key go (default $MEET_DATA_DIR/certs; /certs in containers)
  MEET_ACME_CHALLENGE_DIR  where HTTP-01 token files go, served at /.well-known/acme-challenge/
                           (default $MEET_DATA_DIR/acme-challenge; /acme-challenge in containers)
  MEET_CERT_RENEW_DAYS     renew when the certificate expires within this many days (default ${DEFAULT_RENEW_DAYS})
  MEET_CERT_LOCK_WAIT_SECONDS
                           how long issue/renew wait while another run holds the lock (default ${DEFAULT_LOCK_WAIT_SECONDS}, 0 to 3600)
  MEET_DATA_DIR            default .meet; the ACME account key is kept in $MEET_DATA_DIR/acme/account.key

exit status: 0 done (also when nothing was due), 1 failed or another run kept the lock (the old certificate is
untouched), 2 usage or configuration error.`;

export interface CertsCliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: Record<string, string | undefined>;
}

const FLAGS: Record<string, readonly string[]> = {
  issue: ['force', 'skip-self-check'],
  renew: ['skip-self-check'],
  status: ['json'],
};

function formatStatus(status: CertificateStatus): string {
  const cert = status.certificate;
  const lines = [`configured names: ${status.configuredNames.join(', ')}`, `certificate:      ${status.certFile}`];
  if (cert) {
    lines.push(
      `names:            ${cert.names.join(', ')}`,
      `issuer:           ${cert.issuer}`,
      `not before:       ${cert.notBefore.toISOString()}`,
      `not after:        ${cert.notAfter.toISOString()}`,
      `days left:        ${status.daysLeft}`,
    );
  }
  lines.push(`renewal due:      ${status.due ? 'yes' : 'no'} (${status.reason})`);
  return lines.join('\n');
}

function statusJson(status: CertificateStatus): string {
  const cert = status.certificate;
  return JSON.stringify(
    {
      configuredNames: status.configuredNames,
      certFile: status.certFile,
      certificate: cert && {
        names: cert.names,
        issuer: cert.issuer,
        notBefore: cert.notBefore.toISOString(),
        notAfter: cert.notAfter.toISOString(),
        chainLength: cert.chainLength,
      },
      daysLeft: status.daysLeft,
      renewDays: status.renewDays,
      renewalDue: status.due,
      reason: status.reason,
    },
    null,
    2,
  );
}

function formatResult(result: RunResult): string {
  const cert = result.certificate;
  if (result.action === 'kept') return `nothing to do: ${result.reason}`;
  return `issued a certificate for ${cert!.names.join(', ')} by ${cert!.issuer}, valid until ${cert!.notAfter.toISOString()}`;
}

export async function runCertsCli(args: readonly string[], io: CertsCliIo): Promise<number> {
  let command: string | undefined;
  let argv: {
    readonly help?: boolean;
    readonly force?: boolean;
    readonly json?: boolean;
    readonly 'skip-self-check'?: boolean;
  };
  let config: CertsConfig;
  try {
    const parsed = parseCliArgs(args, {
      help: { type: 'boolean', short: 'h' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
      'skip-self-check': { type: 'boolean' },
    });
    argv = parsed.values;
    const extra = parsed.positionals.slice(1);
    command = parsed.positionals[0];
    if (argv.help) {
      io.out(CERTS_USAGE);
      return 0;
    }
    if (command === undefined) throw new UsageError('a command is required');
    if (!(command in FLAGS)) throw new UsageError(`unknown command "${command}"`);
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    const unknown = Object.keys(argv).filter((key) => key !== 'help' && !FLAGS[command!]!.includes(key));
    if (unknown.length > 0) throw new UsageError(`${command} takes no option --${unknown[0]}`);
    config = loadCertsConfig(io.env);
  } catch (error) {
    if (error instanceof UsageError) io.err(`certs: ${error.message}\n\n${CERTS_USAGE}`);
    else if (error instanceof ConfigError) io.err(`certs: ${error.message}\n(see npm run certs -- --help)`);
    else throw error;
    return 2;
  }

  try {
    const progress = (line: string) => io.err(`certs: ${line}`);
    if (command === 'status') {
      await clearLeftovers(config, progress);
      const status = await certificateStatus(config);
      io.out(argv.json ? statusJson(status) : formatStatus(status));
      return 0;
    }
    const options = { progress, selfCheck: argv['skip-self-check'] ? false : config.selfCheck };
    const result =
      command === 'issue'
        ? await issueCertificate(config, { ...options, force: Boolean(argv.force) })
        : await renewCertificate(config, options);
    io.out(formatResult(result));
    return 0;
  } catch (error) {
    io.err(`certs: ${command} failed, the current certificate (if any) is unchanged: ${(error as Error).message}`);
    return 1;
  }
}
