/**
 * The backup archive: one file, encrypted and authenticated in this process before it goes anywhere.
 *
 *   "MEETBAK1" | u32 header length | header JSON | iv(12) | tag(16) | AES-256-GCM(gzip(entries))
 *
 * The header (environment, creation time, key id, salt, what is inside) is plaintext but authenticated as the
 * cipher's associated data, so `list` can show it and nobody can change it unnoticed. The content key is
 * HKDF-SHA256(backup key, salt, "meet backup v1\n" + environment): an archive opens only for its own environment.
 * The key id (an HMAC of a fixed label under the backup key) tells a wrong key apart from a tampered archive.
 * Entries: u32 name length | name | u32 data length | data, for each file.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';

const MAGIC = Buffer.from('MEETBAK1');
const INFO = 'meet backup v1\n';

export interface ArchiveHeader {
  readonly format: 1;
  readonly environment: string;
  readonly createdAt: string;
  readonly keyId: string;
  readonly salt: string;
  /** Names of the entries and a summary for people (counts, never a secret). */
  readonly summary: Record<string, number | string>;
}

export type Entries = Map<string, Buffer>;

export class ArchiveError extends Error {}

function backupKeyId(key: Buffer): string {
  return createHmac('sha256', key).update('meet backup key id').digest('hex').slice(0, 16);
}

function contentKey(key: Buffer, salt: Buffer, environment: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key, salt, INFO + environment, 32));
}

function packEntries(entries: Entries): Buffer {
  const parts: Buffer[] = [];
  for (const [name, data] of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const lengths = Buffer.alloc(4);
    lengths.writeUInt32BE(nameBytes.length);
    const dataLength = Buffer.alloc(4);
    dataLength.writeUInt32BE(data.length);
    parts.push(lengths, nameBytes, dataLength, data);
  }
  return Buffer.concat(parts);
}

function unpackEntries(bytes: Buffer): Entries {
  const entries: Entries = new Map();
  let at = 0;
  const take = (length: number) => {
    if (at + length > bytes.length) throw new ArchiveError('the archive is corrupt (an entry runs past its end)');
    const slice = bytes.subarray(at, at + length);
    at += length;
    return slice;
  };
  while (at < bytes.length) {
    const name = take(take(4).readUInt32BE()).toString('utf8');
    entries.set(name, Buffer.from(take(take(4).readUInt32BE())));
  }
  return entries;
}

export function sealArchive(
  entries: Entries,
  key: Buffer,
  environment: string,
  summary: Record<string, number | string>,
  now = new Date(),
): Buffer {
  const salt = randomBytes(16);
  const header: ArchiveHeader = {
    format: 1,
    environment,
    createdAt: now.toISOString(),
    keyId: backupKeyId(key),
    salt: salt.toString('base64url'),
    summary,
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(headerBytes.length);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', contentKey(key, salt, environment), iv);
  cipher.setAAD(Buffer.concat([MAGIC, length, headerBytes]));
  const ciphertext = Buffer.concat([cipher.update(gzipSync(packEntries(entries), { level: 6 })), cipher.final()]);
  return Buffer.concat([MAGIC, length, headerBytes, iv, cipher.getAuthTag(), ciphertext]);
}

/** The authenticated-but-plain header; throws ArchiveError when the file is not an archive of ours. */
export function readHeader(archive: Buffer): { header: ArchiveHeader; bodyAt: number } {
  if (archive.length < MAGIC.length + 4 || !archive.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new ArchiveError('not a Wikimedia Meet backup archive (wrong magic bytes)');
  }
  const headerLength = archive.readUInt32BE(MAGIC.length);
  const bodyAt = MAGIC.length + 4 + headerLength;
  if (headerLength > 65_536 || bodyAt + 28 > archive.length)
    throw new ArchiveError('the archive is corrupt (truncated header)');
  let header: ArchiveHeader;
  try {
    header = JSON.parse(archive.subarray(MAGIC.length + 4, bodyAt).toString('utf8')) as ArchiveHeader;
  } catch {
    throw new ArchiveError('the archive is corrupt (unreadable header)');
  }
  if (
    header.format !== 1 ||
    typeof header.environment !== 'string' ||
    typeof header.keyId !== 'string' ||
    typeof header.salt !== 'string'
  ) {
    throw new ArchiveError('the archive is corrupt or of an unknown format');
  }
  return { header, bodyAt };
}

export function openArchive(
  archive: Buffer,
  key: Buffer,
  environment: string,
): { header: ArchiveHeader; entries: Entries } {
  const { header, bodyAt } = readHeader(archive);
  if (header.environment !== environment) {
    throw new ArchiveError(
      `the archive is from the environment "${header.environment}", not "${environment}" (MEET_ENVIRONMENT); nothing was changed`,
    );
  }
  if (header.keyId !== backupKeyId(key)) {
    throw new ArchiveError(
      `wrong backup key: the archive was made with key ${header.keyId}, MEET_BACKUP_KEY_FILE holds key ${backupKeyId(key)}`,
    );
  }
  const iv = archive.subarray(bodyAt, bodyAt + 12);
  const tag = archive.subarray(bodyAt + 12, bodyAt + 28);
  const decipher = createDecipheriv(
    'aes-256-gcm',
    contentKey(key, Buffer.from(header.salt, 'base64url'), environment),
    iv,
  );
  decipher.setAAD(archive.subarray(0, bodyAt));
  decipher.setAuthTag(tag);
  let packed: Buffer;
  try {
    packed = Buffer.concat([decipher.update(archive.subarray(bodyAt + 28)), decipher.final()]);
  } catch {
    throw new ArchiveError('the archive is corrupt or was tampered with (authentication failed); nothing was changed');
  }
  return { header, entries: unpackEntries(gunzipSync(packed)) };
}
