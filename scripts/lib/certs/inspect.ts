/**
 * What the certificate on disk is (names, issuer, validity, whether its key matches) and whether it is due for
 * renewal. Read with node:crypto only: no ACME, no network.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const CERT_FILE = 'cert.crt';
export const KEY_FILE = 'cert.key';

const DAY_MS = 86_400_000;

export interface CertificateInfo {
  /** DNS names of the subjectAltName extension (what browsers check). */
  readonly names: readonly string[];
  /** The issuer's common name (e.g. "R11", or the whole issuer when it has no CN). */
  readonly issuer: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Certificates in the file: the leaf plus its chain. */
  readonly chainLength: number;
}

export type CertificateState =
  | { readonly kind: 'missing'; readonly certFile: string }
  | { readonly kind: 'unreadable'; readonly certFile: string; readonly problem: string }
  | {
      readonly kind: 'present';
      readonly certFile: string;
      readonly info: CertificateInfo;
      readonly keyProblem: string | null;
    };

export interface RenewalDecision {
  readonly due: boolean;
  /** Why (or why not), for a person: "expires in 12 days (renewal window 30 days)". */
  readonly reason: string;
  /** Whole days until notAfter (negative once expired); null without a readable certificate. */
  readonly daysLeft: number | null;
}

/** Splits a PEM bundle into its certificates. */
function splitPemCertificates(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

function commonName(distinguishedName: string): string {
  return /^CN=(.*)$/m.exec(distinguishedName)?.[1] ?? distinguishedName.replace(/\n/g, ', ');
}

/** Parses a PEM chain (leaf first). Throws with a readable message on anything else. */
export function describeCertificate(pem: string): CertificateInfo {
  const blocks = splitPemCertificates(pem);
  if (blocks.length === 0) throw new Error('holds no PEM certificate');
  const leaf = new X509Certificate(blocks[0]!);
  const names = (leaf.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4).toLowerCase());
  return {
    names,
    issuer: commonName(leaf.issuer),
    notBefore: new Date(leaf.validFrom),
    notAfter: new Date(leaf.validTo),
    chainLength: blocks.length,
  };
}

/** Null when `keyPem` is the private key of the chain's leaf, otherwise what is wrong. */
export function keyMismatch(chainPem: string, keyPem: string): string | null {
  try {
    const leaf = new X509Certificate(splitPemCertificates(chainPem)[0] ?? '');
    return leaf.checkPrivateKey(createPrivateKey(keyPem)) ? null : `${KEY_FILE} is not the key of ${CERT_FILE}`;
  } catch (error) {
    return `${KEY_FILE} cannot be read: ${(error as Error).message}`;
  }
}

/** True when a certificate name covers `domain` (exactly, or as a one-label wildcard). */
export function nameCovers(certName: string, domain: string): boolean {
  if (certName === domain) return true;
  return (
    certName.startsWith('*.') && domain.slice(domain.indexOf('.') + 1) === certName.slice(2) && domain.indexOf('.') > 0
  );
}

/** The configured domains that none of the certificate's names covers. */
export function uncoveredDomains(info: CertificateInfo, domains: readonly string[]): string[] {
  return domains.filter((domain) => !info.names.some((name) => nameCovers(name, domain)));
}

export async function readCertificateState(certsDir: string): Promise<CertificateState> {
  const certFile = join(certsDir, CERT_FILE);
  let chain: string;
  try {
    chain = await readFile(certFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing', certFile };
    return { kind: 'unreadable', certFile, problem: (error as Error).message };
  }
  let info: CertificateInfo;
  try {
    info = describeCertificate(chain);
  } catch (error) {
    return { kind: 'unreadable', certFile, problem: (error as Error).message };
  }
  const key = await readFile(join(certsDir, KEY_FILE), 'utf8').catch((error: NodeJS.ErrnoException) => error);
  const keyProblem =
    typeof key === 'string' ? keyMismatch(chain, key) : `${KEY_FILE} cannot be read: ${key.code ?? key.message}`;
  return { kind: 'present', certFile, info, keyProblem };
}

/**
 * Due when there is no usable certificate, its key is missing or wrong, it does not cover every configured name,
 * or it expires within `renewDays`. Otherwise not due: a fresh certificate is never replaced by `renew`
 * (Let's Encrypt limits duplicate certificates per week).
 */
export function renewalDecision(
  state: CertificateState,
  domains: readonly string[],
  renewDays: number,
  now = new Date(),
): RenewalDecision {
  if (state.kind === 'missing')
    return { due: true, reason: `there is no certificate at ${state.certFile}`, daysLeft: null };
  if (state.kind === 'unreadable')
    return { due: true, reason: `${state.certFile} cannot be used: ${state.problem}`, daysLeft: null };
  const { info } = state;
  const daysLeft = Math.floor((info.notAfter.getTime() - now.getTime()) / DAY_MS);
  if (state.keyProblem) return { due: true, reason: state.keyProblem, daysLeft };
  const uncovered = uncoveredDomains(info, domains);
  if (uncovered.length > 0)
    return { due: true, reason: `the certificate does not cover ${uncovered.join(', ')}`, daysLeft };
  if (info.notAfter.getTime() <= now.getTime())
    return { due: true, reason: `the certificate expired on ${info.notAfter.toISOString()}`, daysLeft };
  const renewFrom = new Date(info.notAfter.getTime() - renewDays * DAY_MS);
  if (renewFrom.getTime() <= now.getTime())
    return {
      due: true,
      reason: `the certificate expires in ${daysLeft} days (renewal window ${renewDays} days)`,
      daysLeft,
    };
  return {
    due: false,
    reason: `the certificate is valid for ${daysLeft} more days; renewal is due from ${renewFrom.toISOString()}`,
    daysLeft,
  };
}
