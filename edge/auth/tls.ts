/**
 * meet-auth's certificate, kept current without a restart: loaded at start when the files exist, and loaded
 * again whenever they change (the daily `certs renew` replaces them by rename). A pair that does not load or
 * whose key does not belong to the certificate (e.g. read between the two renames) is skipped; the server keeps
 * the context it has until a good pair appears. Until the first certificate exists, TLS handshakes fail but the
 * plain-HTTP listener already answers the CA's challenges, so the first `certs issue` can succeed.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { Server as TlsServer } from 'node:tls';
import type { Logger } from '../shared/log.js';

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface TlsPair {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly notAfter: string;
}

/** Reads and checks the pair; returns what is wrong instead of throwing. */
export function readTlsPair(files: TlsFiles): TlsPair | { readonly problem: string } {
  try {
    const cert = readFileSync(files.certFile);
    const key = readFileSync(files.keyFile);
    const leaf = new X509Certificate(cert);
    if (!leaf.checkPrivateKey(createPrivateKey(key)))
      return { problem: `${files.keyFile} is not the key of ${files.certFile}` };
    return { cert, key, notAfter: new Date(leaf.validTo).toISOString() };
  } catch (error) {
    return { problem: (error as Error).message };
  }
}

/**
 * Polls the two files (stat every `intervalMs`; a renamed-in file is seen, unlike with inotify on the old inode)
 * and installs each new good pair with setSecureContext. Returns a function that stops watching.
 */
export function watchTlsFiles(
  server: TlsServer,
  files: TlsFiles,
  current: TlsPair | null,
  log: Logger,
  intervalMs: number,
): () => void {
  let installed = current?.cert ?? null;
  let lastProblem: string | null = null;
  const reload = () => {
    const pair = readTlsPair(files);
    if ('problem' in pair) {
      if (pair.problem !== lastProblem)
        log.warn({ problem: pair.problem }, 'TLS certificate not (re)loaded; keeping the current one');
      lastProblem = pair.problem;
      return;
    }
    lastProblem = null;
    if (installed?.equals(pair.cert)) return;
    server.setSecureContext({ cert: pair.cert, key: pair.key });
    installed = pair.cert;
    log.info({ certFile: files.certFile, notAfter: pair.notAfter }, 'TLS certificate loaded');
  };
  const options = { interval: intervalMs, persistent: false };
  watchFile(files.certFile, options, reload);
  watchFile(files.keyFile, options, reload);
  return () => {
    unwatchFile(files.certFile, reload);
    unwatchFile(files.keyFile, reload);
  };
}
