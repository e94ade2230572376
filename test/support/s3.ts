/**
 * A real S3-compatible server on loopback for tests: s3rver (an S3 API implementation over the file system; the
 * npm package, as Debian bookworm packages none: no minio, seaweedfs, garage or s3proxy, and radosgw needs a Ceph
 * cluster). Requests go through @aws-sdk/client-s3 over HTTP, exactly as against Cloud VPS object storage.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { freePort } from './ports.js';

export interface TestS3 {
  readonly endpoint: string;
  /** Environment for the backup CLI (endpoint, path-style, credentials s3rver accepts). */
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startS3(buckets: readonly string[]): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const port = await freePort();
  const server = new S3rver({
    port,
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    env: {
      MEET_S3_ENDPOINT: endpoint,
      MEET_S3_FORCE_PATH_STYLE: '1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      MEET_S3_REGION: 'us-east-1',
    },
    async stop() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
