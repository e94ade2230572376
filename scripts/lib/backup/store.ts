/**
 * Where archives go: a directory (`--out DIR`) or Cloud VPS object storage through its S3 API (`--to
 * s3://bucket/prefix`, @aws-sdk/client-s3). Endpoint and addressing come from MEET_S3_ENDPOINT, MEET_S3_REGION
 * (default us-east-1) and MEET_S3_FORCE_PATH_STYLE (1, the default: Ceph's radosgw, as Cloud VPS runs it, serves
 * path-style); credentials from the SDK's usual chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY). Retention keeps
 * the newest archive of each of the last N days and of each of the last M ISO weeks (7 and 4 by default).
 */
import { mkdir, readdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';

export interface ArchiveStore {
  /** Where an archive of this name ends up, as a person reads it (a path or an s3:// URL). */
  where(name: string): string;
  put(name: string, bytes: Buffer): Promise<void>;
  list(): Promise<string[]>;
  get(name: string): Promise<Buffer>;
  remove(name: string): Promise<void>;
}

const NAME = /^meet-([a-z][a-z0-9-]{0,30})-(\d{8}T\d{6}Z)(?:-(\d+))?\.meetbak$/;

export function archiveName(environment: string, now: Date): string {
  const iso = now.toISOString();
  return `meet-${environment}-${iso.replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')}-${iso.slice(20, 23)}.meetbak`;
}

function archiveTime(name: string): Date | null {
  const match = NAME.exec(name);
  if (!match) return null;
  const t = match[2]!;
  return new Date(
    `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T${t.slice(9, 11)}:${t.slice(11, 13)}:${t.slice(13, 15)}Z`,
  );
}

export function directoryStore(dir: string): ArchiveStore {
  const base = resolve(dir);
  return {
    where: (name) => join(base, name),
    async put(name, bytes) {
      await mkdir(base, { recursive: true, mode: 0o700 });
      const temp = join(base, `.${name}.${process.pid}.tmp`);
      await writeFile(temp, bytes, { mode: 0o600 });
      await rename(temp, join(base, name));
    },
    list: async () => (await readdir(base).catch(() => [] as string[])).filter((name) => NAME.test(name)).sort(),
    get: (name) => readFile(join(base, name)),
    remove: (name) => rm(join(base, name), { force: true }),
  };
}

export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.:_-]{1,254})(?:\/(.*))?$/i.exec(url);
  if (!match) throw new Error(`"${url}" is not an s3://bucket/prefix URL`);
  const prefix = (match[2] ?? '').replace(/^\/+|\/+$/g, '');
  return { bucket: match[1]!, prefix: prefix ? `${prefix}/` : '' };
}

export function s3Client(env: Record<string, string | undefined>): S3Client {
  return new S3Client({
    region: env.MEET_S3_REGION || 'us-east-1',
    ...(env.MEET_S3_ENDPOINT ? { endpoint: env.MEET_S3_ENDPOINT } : {}),
    forcePathStyle: (env.MEET_S3_FORCE_PATH_STYLE ?? '1') !== '0',
    ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          credentials: {
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
            ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
          },
        }
      : {}),
    // Cloud VPS's radosgw, like s3rver, does not know the newer default checksums.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export function s3Store(url: string, client: S3Client): ArchiveStore {
  const { bucket, prefix } = parseS3Url(url);
  return {
    where: (name) => `s3://${bucket}/${prefix}${name}`,
    async put(name, bytes) {
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: prefix + name,
          Body: bytes,
          ContentType: 'application/octet-stream',
        }),
      );
    },
    async list() {
      const names: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }),
        );
        for (const object of page.Contents ?? []) {
          const name = object.Key?.slice(prefix.length) ?? '';
          if (NAME.test(name)) names.push(name);
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return names.sort();
    },
    async get(name) {
      const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: prefix + name }));
      return Buffer.from(await object.Body!.transformToByteArray());
    },
    async remove(name) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: prefix + name }));
    },
  };
}

const dayOf = (time: Date) => time.toISOString().slice(0, 10);
function isoWeekOf(time: Date): string {
  const date = new Date(Date.UTC(time.getUTCFullYear(), time.getUTCMonth(), time.getUTCDate()));
  const day = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(date.getUTCFullYear(), 0, 1);
  return `${date.getUTCFullYear()}-W${Math.ceil(((date.getTime() - yearStart) / 86_400_000 + 1) / 7)}`;
}

/** The archives retention keeps: the newest of each of the last `daily` days and `weekly` ISO weeks that have one. */
export function retained(names: readonly string[], daily: number, weekly: number): Set<string> {
  const dated = names
    .map((name) => ({ name, time: archiveTime(name) }))
    .filter((item): item is { name: string; time: Date } => item.time !== null)
    .sort((a, b) => b.time.getTime() - a.time.getTime() || (a.name < b.name ? 1 : -1));
  const keep = new Set<string>();
  for (const [bucketOf, count] of [
    [dayOf, daily],
    [isoWeekOf, weekly],
  ] as const) {
    const seen = new Set<string>();
    for (const item of dated) {
      const bucket = bucketOf(item.time);
      if (seen.has(bucket)) continue;
      if (seen.size >= count) break;
      seen.add(bucket);
      keep.add(item.name);
    }
  }
  return keep;
}
