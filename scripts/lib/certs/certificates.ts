/**
 * The three things `npm run certs` does: status (read only), issue and renew. Both write the new key and chain
 * only after the CA delivered and they were checked, so a failed order never touches the working certificate.
 */
import type { CertsConfig } from './config.js';
import { obtainCertificate } from './acme.js';
import { ensureDirectory, replaceFiles } from './files.js';
import { CERT_FILE, describeCertificate, KEY_FILE, readCertificateState, renewalDecision, type CertificateInfo, type RenewalDecision } from './inspect.js';

export interface CertificateStatus extends RenewalDecision {
  readonly certFile: string;
  readonly configuredNames: readonly string[];
  /** Null when there is no readable certificate. */
  readonly certificate: CertificateInfo | null;
  readonly renewDays: number;
}

export interface RunOptions {
  readonly progress: (line: string) => void;
  /** See ObtainOptions.selfCheck. @default true */
  readonly selfCheck?: boolean;
  readonly now?: Date;
}

export interface RunResult {
  /** `issued`: a new certificate is in place; `kept`: nothing was due, the CA was not contacted. */
  readonly action: 'issued' | 'kept';
  /** Why it was (not) due. */
  readonly reason: string;
  readonly certificate: CertificateInfo | null;
}

export async function certificateStatus(config: CertsConfig, now = new Date()): Promise<CertificateStatus> {
  const state = await readCertificateState(config.certsDir);
  return {
    certFile: state.certFile,
    configuredNames: config.domains,
    certificate: state.kind === 'present' ? state.info : null,
    renewDays: config.renewDays,
    ...renewalDecision(state, config.domains, config.renewDays, now),
  };
}

/** Obtains a certificate and puts it in place: key first, then the chain, each written to a temp file and renamed. */
async function replaceCertificate(config: CertsConfig, options: RunOptions): Promise<CertificateInfo> {
  const obtained = await obtainCertificate(config, { progress: options.progress, ...(options.selfCheck === undefined ? {} : { selfCheck: options.selfCheck }) });
  await ensureDirectory(config.certsDir, 0o750);
  await replaceFiles(config.certsDir, [
    { name: KEY_FILE, data: obtained.keyPem, mode: 0o600 },
    // The chain is renamed last: servers watch it, and by then the matching key is already in place.
    { name: CERT_FILE, data: obtained.chainPem, mode: 0o644 },
  ]);
  options.progress(`wrote ${config.certsDir}/${CERT_FILE} and ${KEY_FILE}`);
  return describeCertificate(obtained.chainPem);
}

/** `renew`: obtains a new certificate only when the current one is due (see renewalDecision). */
export async function renewCertificate(config: CertsConfig, options: RunOptions): Promise<RunResult> {
  const status = await certificateStatus(config, options.now);
  if (!status.due) return { action: 'kept', reason: status.reason, certificate: status.certificate };
  options.progress(`renewing: ${status.reason}`);
  return { action: 'issued', reason: status.reason, certificate: await replaceCertificate(config, options) };
}

/** `issue`: obtains a certificate now unless a fresh one (not due) exists; `force` replaces even that. */
export async function issueCertificate(config: CertsConfig, options: RunOptions & { readonly force?: boolean }): Promise<RunResult> {
  const status = await certificateStatus(config, options.now);
  if (!status.due && !options.force) return { action: 'kept', reason: status.reason, certificate: status.certificate };
  const reason = status.due ? status.reason : `forced (${status.reason})`;
  options.progress(`issuing: ${reason}`);
  return { action: 'issued', reason, certificate: await replaceCertificate(config, options) };
}
