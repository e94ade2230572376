/**
 * The three things `npm run certs` does: status (read only), issue and renew. Both write the new key and chain
 * only after the CA delivered and they were checked, so a failed order never touches the working certificate.
 * Issue and renew hold the lock of the certificate and account directories (lock.ts) from before they look at
 * the certificate until they are done, so of two runs started together only one orders and the other then finds
 * the fresh certificate. Each begins by removing the temp files a run killed mid-write left behind.
 */
import { existsSync } from 'node:fs';
import type { CertsConfig } from './config.js';
import { obtainCertificate } from './acme.js';
import { ensureDirectory, removeTempFiles, replaceFiles } from './files.js';
import { acquireLock, LOCK_FILE, STALE_AFTER_MS, tryLock, type HeldLock } from './lock.js';
import {
  CERT_FILE,
  describeCertificate,
  KEY_FILE,
  readCertificateState,
  renewalDecision,
  type CertificateInfo,
  type RenewalDecision,
} from './inspect.js';

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

/** The directories runs write in, in the order they are locked: the certificate's, then the ACME account's. */
function writtenDirectories(config: CertsConfig): string[] {
  return [...new Set([config.certsDir, config.accountDir])];
}

/** Removes what a run killed mid-write left in `dir`. The lock's own temp names live for moments: only old ones are leftovers. */
async function removeLeftovers(dir: string, progress: (line: string) => void): Promise<void> {
  const removed = await removeTempFiles(
    dir,
    (target, mtimeMs) => target === LOCK_FILE && Date.now() - mtimeMs < STALE_AFTER_MS,
  );
  if (removed.length > 0)
    progress(`removed ${removed.length} temp file(s) an interrupted run left in ${dir}: ${removed.join(', ')}`);
}

/** Runs `work` holding the lock of every directory it writes in, after clearing leftovers there. */
async function exclusively<T>(
  config: CertsConfig,
  command: string,
  progress: (line: string) => void,
  work: (assertHeld: () => Promise<void>) => Promise<T>,
): Promise<T> {
  await ensureDirectory(config.accountDir, 0o700);
  await ensureDirectory(config.certsDir, 0o750);
  const locks: HeldLock[] = [];
  try {
    for (const dir of writtenDirectories(config)) {
      locks.push(await acquireLock(dir, { command, progress, waitMs: config.lockWaitSeconds * 1000 }));
      await removeLeftovers(dir, progress);
    }
    return await work(async () => {
      for (const lock of locks) await lock.assertHeld();
    });
  } finally {
    for (const lock of locks.reverse())
      await lock
        .release()
        .catch((error: Error) => progress(`could not remove the lock ${lock.path}: ${error.message}`));
  }
}

/**
 * For `status`, which writes nothing and never waits: clears leftovers of a killed run where no run is going on
 * (a running one's temp files are its own). Problems are reported, not fatal: the status still shows.
 */
export async function clearLeftovers(config: CertsConfig, progress: (line: string) => void): Promise<void> {
  for (const dir of writtenDirectories(config)) {
    if (!existsSync(dir)) continue;
    try {
      const lock = await tryLock(dir, { command: 'status', progress });
      if ('heldBy' in lock) {
        progress(`${lock.heldBy} is working in ${dir}; its temp files are left alone`);
        continue;
      }
      try {
        await removeLeftovers(dir, progress);
      } finally {
        await lock.release();
      }
    } catch (error) {
      progress(`could not check ${dir} for leftover temp files: ${(error as Error).message}`);
    }
  }
}

/** Obtains a certificate and puts it in place: key first, then the chain, each written to a temp file and renamed. */
async function replaceCertificate(
  config: CertsConfig,
  options: RunOptions,
  assertHeld: () => Promise<void>,
): Promise<CertificateInfo> {
  const obtained = await obtainCertificate(config, {
    progress: options.progress,
    ...(options.selfCheck === undefined ? {} : { selfCheck: options.selfCheck }),
  });
  await assertHeld();
  await replaceFiles(config.certsDir, [
    { name: KEY_FILE, data: obtained.keyPem, mode: 0o600 },
    // The chain is renamed last: servers watch it, and by then the matching key is already in place.
    { name: CERT_FILE, data: obtained.chainPem, mode: 0o644 },
  ]);
  options.progress(`wrote ${config.certsDir}/${CERT_FILE} and ${KEY_FILE}`);
  return describeCertificate(obtained.chainPem);
}

/** `renew`: obtains a new certificate only when the current one is due (see renewalDecision). */
export function renewCertificate(config: CertsConfig, options: RunOptions): Promise<RunResult> {
  return exclusively(config, 'renew', options.progress, async (assertHeld) => {
    const status = await certificateStatus(config, options.now);
    if (!status.due) return { action: 'kept', reason: status.reason, certificate: status.certificate };
    options.progress(`renewing: ${status.reason}`);
    return {
      action: 'issued',
      reason: status.reason,
      certificate: await replaceCertificate(config, options, assertHeld),
    };
  });
}

/** `issue`: obtains a certificate now unless a fresh one (not due) exists; `force` replaces even that. */
export function issueCertificate(
  config: CertsConfig,
  options: RunOptions & { readonly force?: boolean },
): Promise<RunResult> {
  return exclusively(config, 'issue', options.progress, async (assertHeld) => {
    const status = await certificateStatus(config, options.now);
    if (!status.due && !options.force)
      return { action: 'kept', reason: status.reason, certificate: status.certificate };
    const reason = status.due ? status.reason : `forced (${status.reason})`;
    options.progress(`issuing: ${reason}`);
    return { action: 'issued', reason, certificate: await replaceCertificate(config, options, assertHeld) };
  });
}
