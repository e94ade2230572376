import { describe, expect, it } from 'vitest';
import { MEET_AUTH_COMMAND } from '../../stacks/heap-flags.js';
import { s3Client } from '../../scripts/lib/backup/store.js';
import { backupEnv } from '../../stacks/meet-auth.js';
import { sharedStacks, synthStacks } from './app-helpers.js';
import { synthMeetAuth } from './edge-containers.js';
import { container, productionConfig } from './helpers.js';

describe('MeetAuth', () => {
  it('serves HTTP on 80 by default with its agents and their signing secrets as JSON built by Terraform', () => {
    const edge = container(synthMeetAuth(), 'meet-edge');
    expect(edge).toMatchObject({ command: [...MEET_AUTH_COMMAND], user: '1000:1000' });
    expect(edge.ports).toEqual([
      { internal: 8080, external: 80, ip: '0.0.0.0' },
      { internal: 8080, external: 80, ip: '::' },
    ]);
    expect(edge.env).toEqual(
      expect.arrayContaining([
        'MEET_AUTH_HOST=0.0.0.0',
        'MEET_AUTH_PORT=8080',
        'MEET_PUBLIC_URL=https://auth.example.org',
        'MEET_LOG_LEVEL=info',
        '${jsonencode([{"name" = "jitsi", "url" = "http://172.16.1.2:4000", "sealingPublicKey" = "pub"}])}'.replace(
          /^/,
          'MEET_AGENTS=',
        ),
        'MEET_AGENT_SIGNING_SECRETS=${jsonencode({"jitsi" = "whsec_a whsec_b"})}',
      ]),
    );
    expect(edge.env.some((entry) => entry.startsWith('MEET_TLS_'))).toBe(false);
    expect(edge.env.some((entry) => entry.startsWith('MEET_METRICS_TOKEN='))).toBe(false);
    // The /metrics bearer token reaches the container environment only (edge/auth/config.ts reads it).
    expect(container(synthMeetAuth({ metricsToken: '${var.metrics_token}' }), 'meet-edge').env).toContain(
      'MEET_METRICS_TOKEN=${var.metrics_token}',
    );
  });

  it('with TLS: certificate paths set, 443 published, and 80 kept for ACME challenges (plain-HTTP listener)', () => {
    const edge = container(synthMeetAuth({ tls: true }), 'meet-edge');
    expect(edge.env).toEqual(
      expect.arrayContaining([
        'MEET_TLS_CERT=/certs/cert.crt',
        'MEET_TLS_KEY=/certs/cert.key',
        'MEET_AUTH_HTTP_PORT=8081',
      ]),
    );
    expect(edge.ports).toEqual([
      { internal: 8080, external: 443, ip: '0.0.0.0' },
      { internal: 8080, external: 443, ip: '::' },
      { internal: 8081, external: 80, ip: '0.0.0.0' },
      { internal: 8081, external: 80, ip: '::' },
    ]);
    expect(container(synthMeetAuth(), 'meet-edge').env.some((entry) => entry.startsWith('MEET_AUTH_HTTP_PORT='))).toBe(
      false,
    );
  });

  it('passes the meeting site to meet-auth (MEET_MEETING_URL) when given, and refuses one that is not an origin', () => {
    expect(container(synthMeetAuth({ meetingUrl: 'https://meet.example.org' }), 'meet-edge').env).toContain(
      'MEET_MEETING_URL=https://meet.example.org',
    );
    expect(container(synthMeetAuth(), 'meet-edge').env.some((entry) => entry.startsWith('MEET_MEETING_URL='))).toBe(
      false,
    );
    expect(() => synthMeetAuth({ meetingUrl: 'meet.example.org' })).toThrow(
      'meetingUrl "meet.example.org" must be an http(s) origin',
    );
  });

  it('validation errors', () => {
    expect(() => synthMeetAuth({ agents: [] })).toThrow('the edge needs at least one agent');
    expect(() => synthMeetAuth({ publicUrl: 'auth.example.org' })).toThrow(
      'publicUrl "auth.example.org" must be an http(s) origin without a path',
    );
    const agent = { name: 'a', url: 'http://x:1', sealingPublicKey: 'p', signingSecrets: 's' };
    expect(() => synthMeetAuth({ agents: [agent, agent] })).toThrow('agent name "a" is given twice');
  });
});

describe('MeetAuth with backups (production)', () => {
  const stacks = sharedStacks('production');
  const edge = container(stacks['production-services']!, 'meet-edge');
  const envOf = (entries: readonly string[]) =>
    Object.fromEntries(
      entries.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
    );

  it('meet-edge gets the object storage settings and the backup secrets as references to the sensitive variables; no other container does', async () => {
    const env = envOf(edge.env);
    expect(env).toMatchObject({
      MEET_ENVIRONMENT: 'production',
      MEET_S3_ENDPOINT: 'https://object.eqiad1.wikimediacloud.org',
      MEET_S3_REGION: 'eqiad1',
      MEET_S3_FORCE_PATH_STYLE: '1',
      AWS_ACCESS_KEY_ID: '${var.backup_s3_access_key_id}',
      AWS_SECRET_ACCESS_KEY: '${var.backup_s3_secret_access_key}',
      MEET_BACKUP_KEY: '${var.backup_key}',
    });
    const variables = stacks['production-services']!.variable!;
    for (const name of ['backup_key', 'backup_s3_access_key_id', 'backup_s3_secret_access_key'])
      expect(variables[name], name).toMatchObject({ sensitive: true, nullable: false });
    const others = ['jitsi-web', 'jitsi-prosody', 'jitsi-jicofo', 'jitsi-jvb', 'meet-agent'].map((name) =>
      container(stacks['production-services']!, name),
    );
    for (const other of others) expect(JSON.stringify(other.env)).not.toMatch(/backup|AWS_/);
    // What the backup CLI makes of that environment (scripts/lib/backup/store.ts reads these very names).
    const client = s3Client({ ...env, AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret' });
    const endpoint = await client.config.endpoint!();
    expect([endpoint.protocol, endpoint.hostname, await client.config.region(), client.config.forcePathStyle]).toEqual([
      'https:',
      'object.eqiad1.wikimediacloud.org',
      'eqiad1',
      true,
    ]);
  });

  it('an environment without `backup` gives meet-edge none of it', () => {
    const plain = container(
      synthStacks([productionConfig(({ backup: _backup, ...env }) => env)])['production-services']!,
      'meet-edge',
    );
    expect(plain.env.filter((entry) => /^(MEET_S3_|MEET_BACKUP|AWS_|MEET_ENVIRONMENT=)/.test(entry))).toEqual([]);
  });

  it('the backup variables refuse bad values by name, never echoing them', () => {
    const variables = stacks['production-services']!.variable!;
    const rules = (name: string) => variables[name]!.validation as { condition: string; error_message: string }[];
    expect(rules('backup_key')[0]!.error_message).toBe(
      'backup_key must be 32 bytes in base64url (43 characters), as npm run secrets -- init makes it.',
    );
    expect(rules('backup_s3_secret_access_key')[0]!.condition).toBe(
      '${can(regex("^[!-~]{16,256}$", var.backup_s3_secret_access_key))}',
    );
  });

  it('validation errors', () => {
    const secrets = { backupKey: 'k', accessKeyId: 'a', secretAccessKey: 's' };
    expect(() =>
      backupEnv({ environment: 'Prod', endpoint: 'https://x.org', region: 'r', forcePathStyle: true, secrets }),
    ).toThrow('backup environment "Prod" must be');
    expect(() =>
      backupEnv({ environment: 'p', endpoint: 'http://x.org', region: 'r', forcePathStyle: true, secrets }),
    ).toThrow('backup endpoint "http://x.org" must be an https origin');
    expect(() =>
      backupEnv({ environment: 'p', endpoint: 'https://x.org', region: 'a b', forcePathStyle: true, secrets }),
    ).toThrow('backup region "a b" must be a region name');
  });
});
