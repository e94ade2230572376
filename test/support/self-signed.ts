/** Self-signed certificates for tests that serve, watch or inspect TLS (openssl, as Debian ships it). */
import { execFileSync } from 'node:child_process';

export interface SelfSignedOptions {
  /** Where the certificate goes (PEM). */
  readonly cert: string;
  /** Where its private key goes (PEM, unencrypted). */
  readonly key: string;
  /** The subject's common name. */
  readonly commonName: string;
  /** subjectAltName entries, e.g. "DNS:localhost" or "IP:127.0.0.1". @default none */
  readonly altNames?: readonly string[];
  readonly days: number;
}

/** Writes a self-signed EC P-256 certificate and its key; openssl's own message is in the error when it fails. */
export function writeSelfSigned(options: SelfSignedOptions): void {
  const altNames = options.altNames ?? [];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      options.key,
      '-out',
      options.cert,
      '-subj',
      `/CN=${options.commonName}`,
      ...(altNames.length > 0 ? ['-addext', `subjectAltName=${altNames.join(',')}`] : []),
      '-days',
      String(options.days),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}
