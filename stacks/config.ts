/**
 * The typed configuration of one deployment environment, validated once at start-up (stacks/main.ts).
 * An environment is two stacks, `<name>-cloud` and `<name>-services`. Nothing secret lives here: secrets are
 * sensitive Terraform variables (see secrets.ts), OpenStack and S3 credentials come from OS_* / AWS_* at deploy time.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { ConfigError, ENVIRONMENT_NAME, LOGGING_LEVELS, problemsOf } from '../common/config.js';

/** Oldest Jitsi release with the rootless layout this deployment mounts (storage dirs, web on 8000/8443). */
const MIN_JITSI_RELEASE = { build: 11146, patch: 2 } as const;
const JITSI_TAG = /^stable-(\d+)(?:-(\d+))?$/;

/** Why a Jitsi image tag is unacceptable, or undefined when it is a pinned release ≥ MIN_JITSI_RELEASE. */
export function jitsiTagProblem(tag: string): string | undefined {
  const match = JITSI_TAG.exec(tag);
  if (!match)
    return `Jitsi image tag "${tag}" is not a pinned release like "stable-11146-2" (floating tags are refused)`;
  const build = Number(match[1]);
  const patch = Number(match[2] ?? 0);
  const { build: minBuild, patch: minPatch } = MIN_JITSI_RELEASE;
  if (build < minBuild || (build === minBuild && patch < minPatch)) {
    return `Jitsi image tag "${tag}" is older than stable-${minBuild}-${minPatch}, the first release with the rootless layout`;
  }
  return undefined;
}

/** True for an IPv4 or IPv6 CIDR such as "172.16.0.0/21" or "2a02:ec80::/32". */
export function isCidr(value: string): boolean {
  const [address, bits, ...rest] = value.split('/');
  if (rest.length > 0 || address === undefined || bits === undefined || !/^\d{1,3}$/.test(bits)) return false;
  const family = isIP(address);
  return family !== 0 && Number(bits) <= (family === 4 ? 32 : 128);
}

/** Cloud VPS's flat network, under its old and its new name (cloud-wmcs-cookbooks 50625e8 renamed it). */
const LEGACY_NETWORKS: readonly string[] = ['lan-flat-cloudinstances2b', 'VLAN/legacy'];

/** A Linux account name as Cloud VPS's LDAP shell names are. */
export const SHELL_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const hostname = z.string().regex(HOSTNAME, 'must be a lower-case DNS name such as meet.wmcloud.org');
const zoneName = z
  .string()
  .regex(/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+$/, 'must be a DNS zone ending in "." such as meet.wmcloud.org.');
const resourceName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a plain OpenStack name');
const cidr = z.string().refine(isCidr, 'must be an IPv4 or IPv6 CIDR such as 172.16.0.0/21');

/**
 * The widest admin (ssh) ranges: Cloud VPS's internal ranges where the bastions are and will be are
 * 172.16.0.0/17 and 2a02:ec80:a000::/56; anything wider reaches beyond the cloud.
 */
const WIDEST_ADMIN_PREFIX = { 4: 17, 6: 56 } as const;
const adminCidr = cidr.superRefine((value, ctx) => {
  if (!isCidr(value)) return;
  const [address, bits] = value.split('/') as [string, string];
  const widest = WIDEST_ADMIN_PREFIX[isIP(address) as 4 | 6];
  if (Number(bits) < widest)
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" is wider than /${widest}: ssh may come only from Cloud VPS's internal ranges (172.16.0.0/17, 2a02:ec80:a000::/56)`,
    });
});

const s3State = z.strictObject({
  kind: z.literal('s3'),
  /** Bucket, e.g. "meet:tofu-state" (Cloud VPS object storage is `<project>:<bucket>`). */
  bucket: z.string().min(1),
  /** S3 endpoint, e.g. https://object.eqiad1.wikimediacloud.org */
  endpoint: z.url({ protocol: /^https$/ }),
  region: z.string().min(1).default('eqiad1'),
  /** Prefix of the state object keys; each stack adds `<stack>.tfstate`. */
  keyPrefix: z
    .string()
    .regex(/^[a-z0-9][a-z0-9/_-]*$/)
    .default('meet'),
});
const localState = z.strictObject({ kind: z.literal('local') });

/** Cloud VPS object storage (Ceph radosgw), eqiad1: the S3 API of every project's buckets. */
const CLOUD_VPS_OBJECT_STORAGE = 'https://object.eqiad1.wikimediacloud.org';

/** An OnCalendar expression without what a unit file or a shell would read otherwise (systemd checks the rest). */
const ON_CALENDAR = /^[A-Za-z0-9*:,./~ +-]{1,100}$/;

/**
 * The daily backup of meet-auth's host (the meet-backup timer, `npm run backup -- --to s3://<bucket>/<prefix>` in
 * meet-edge). Schedule, bucket, prefix and retention are the timer's (host files: changing them replaces nothing);
 * endpoint, region and addressing are meet-edge's environment, so an admin's `docker exec meet-edge ... backup`
 * reaches the same storage. The S3 credentials and the backup key are secrets (stacks/secrets.ts).
 */
const quoted = (issue: { input?: unknown }) => JSON.stringify(issue.input);
const backup = z.strictObject({
  /** Bucket, e.g. "meet:backups" (Cloud VPS object storage is `<project>:<bucket>`). */
  bucket: z
    .string({
      error: (issue) =>
        issue.input === undefined
          ? 'is required: the bucket the archives go to, such as "meet:backups"'
          : `${quoted(issue)} is not a bucket name`,
    })
    .regex(/^[a-z0-9][a-z0-9.:_-]{1,254}$/, {
      error: (issue) =>
        `${quoted(issue)} is not an S3 bucket name such as "meet:backups" (lower-case letters, digits, ".", ":", "_", "-")`,
    }),
  /** Prefix of the archives' object keys. @default the environment's name */
  prefix: z
    .string()
    .refine(
      (prefix) =>
        /^[a-z0-9][a-z0-9/_.-]{0,200}$/.test(prefix) &&
        !prefix.includes('..') &&
        !prefix.includes('//') &&
        !prefix.endsWith('/'),
      {
        error: (issue) =>
          `${quoted(issue)} is not a key prefix such as "production" (lower-case letters, digits, "/", "_", ".", "-"; no leading or trailing "/", no "..")`,
      },
    )
    .optional(),
  /** S3 endpoint (MEET_S3_ENDPOINT). @default Cloud VPS object storage, https://object.eqiad1.wikimediacloud.org */
  endpoint: z
    .url({ protocol: /^https$/, error: (issue) => `${quoted(issue)} is not an https URL` })
    .default(CLOUD_VPS_OBJECT_STORAGE),
  /** Signing region (MEET_S3_REGION). @default "eqiad1" */
  region: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { error: (issue) => `${quoted(issue)} is not a region name such as "eqiad1"` })
    .default('eqiad1'),
  /** Path-style addressing (MEET_S3_FORCE_PATH_STYLE): radosgw serves buckets by path. @default true */
  forcePathStyle: z.boolean({ error: (issue) => `${quoted(issue)} is not true or false` }).default(true),
  /** systemd OnCalendar expression of the timer (a random delay of up to an hour is added). @default "daily" */
  schedule: z
    .string()
    .regex(ON_CALENDAR, {
      error: (issue) => `${quoted(issue)} is not a systemd OnCalendar expression such as "daily" or "*-*-* 03:00:00"`,
    })
    .default('daily'),
  /** Retention after each backup: the newest archive of each of the last N days and M ISO weeks. @default 7 and 4 */
  keepDaily: z
    .number({ error: (issue) => `${quoted(issue)} must be a whole number of days from 1 to 1000` })
    .int()
    .min(1)
    .max(1000)
    .default(7),
  keepWeekly: z
    .number({ error: (issue) => `${quoted(issue)} must be a whole number of weeks from 1 to 1000` })
    .int()
    .min(1)
    .max(1000)
    .default(4),
});

const environmentSchema = z
  .strictObject({
    /** Environment name; the stacks are `<name>-cloud` and `<name>-services`. */
    name: z.string().regex(ENVIRONMENT_NAME, 'must be lower-case letters, digits and dashes, starting with a letter'),
    openstack: z.strictObject({
      /** Keystone v3 endpoint. */
      authUrl: z.url({ protocol: /^https$/ }),
      region: z.string().min(1),
      /** The Cloud VPS project (tenant) name. */
      project: z.string().min(1),
    }),
    /** Where Terraform keeps this environment's state. @default local files beside the synthesized stacks */
    state: z.discriminatedUnion('kind', [s3State, localState]).default({ kind: 'local' }),
    network: z.strictObject({
      /**
       * Instance network, looked up by name. It must give every port one IPv4 and one global IPv6 (Cloud VPS's
       * `VXLAN/IPv6-dualstack`); the legacy flat network takes no new instances (T398625).
       */
      name: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'must be a plain OpenStack network name')
        .superRefine((name, ctx) => {
          if (LEGACY_NETWORKS.includes(name)) {
            ctx.addIssue({
              code: 'custom',
              message: `"${name}" is Cloud VPS's legacy flat network, where no new instance may be placed: use "VXLAN/IPv6-dualstack"`,
            });
          }
        }),
      /** External network (pool) the floating IPs come from. */
      floatingIpPool: resourceName,
    }),
    /** Base image of every host, looked up by name (most recent). */
    image: z.string().min(1).default('debian-12.0-bookworm'),
    /** Who may reach ssh (22/tcp) on every host: on Cloud VPS, the bastions' range. */
    adminCidrs: z.array(adminCidr).min(1, "needs at least one CIDR (the bastions' range)"),
    ssh: z.strictObject({
      /**
       * The operator's shell name (developer account), which the docker providers and the readiness gate log in as
       * through the bastion; Cloud VPS's sshd takes keys only from LDAP, never for `debian`. Usually left out here
       * and given at deploy time as TF_VAR_ssh_user. @default none: TF_VAR_ssh_user is then required
       */
      user: z.string().regex(SHELL_NAME, 'must be a shell name (lower-case letters, digits, "_" and "-")').optional(),
      /** ProxyJump target, e.g. "bastion.wmcloud.org"; its user, key and host key come from ~/.ssh/config. */
      bastion: z.string().regex(/^([a-z0-9_.-]+@)?[a-z0-9.-]+(:\d+)?$/, 'must be [user@]host[:port]'),
      /**
       * NSS (LDAP) group whose members may use the Docker daemon on the hosts. @default "project-<openstack.project>",
       * Cloud VPS's group of every project member
       */
      dockerGroup: z
        .string()
        .regex(/^[a-z_][a-z0-9_.-]{0,63}$/)
        .optional(),
      /** How long the readiness gate waits for each new host (sshd and dockerd), in seconds. @default 1800 */
      readySeconds: z.number().int().min(60).max(7200).default(1800),
    }),
    domains: z.strictObject({
      /** Public name of Jitsi Meet. */
      meet: hostname,
      /** Public name of meet-auth. */
      auth: hostname,
    }),
    dns: z.strictObject({
      /** Designate zones owned by (or delegated to) the project; each domain must fall in one of them. */
      zones: z.array(zoneName).min(1),
      ttl: z.number().int().min(60).max(86_400).default(300),
    }),
    hosts: z.strictObject({
      /** `stateVolumeGb`: size of the Cinder volume with the host's state (Prosody's accounts, certificates, ACME). */
      jitsi: z.strictObject({ flavor: resourceName, stateVolumeGb: z.number().int().min(1).max(1000).default(10) }),
      /** `stateVolumeGb`: size of the Cinder volume with meet-auth's registry, certificates and ACME account. */
      meetAuth: z.strictObject({ flavor: resourceName, stateVolumeGb: z.number().int().min(1).max(1000).default(5) }),
      /** Extra JVB hosts for scale-out. @default none */
      jvb: z
        .strictObject({ count: z.number().int().min(0).max(100).default(0), flavor: resourceName.optional() })
        .default({ count: 0 }),
    }),
    jitsi: z
      .strictObject({
        /** Pinned release tag (stable-NNNNN[-N]); floating tags are refused. */
        imageTag: z.string().superRefine((tag, ctx) => {
          const problem = jitsiTagProblem(tag);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }),
        imageRepository: z
          .string()
          .regex(/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)+$/)
          .default('ghcr.io/jitsi'),
        /** Let guests join a room once an authenticated user opened it. */
        enableGuests: z.boolean().default(true),
        timezone: z.string().min(1).default('UTC'),
      })
      .default({ imageTag: 'stable-11146-2', imageRepository: 'ghcr.io/jitsi', enableGuests: true, timezone: 'UTC' }),
    /**
     * Where the hosts' certificates come from (`npm run certs`, HTTP-01, renewed daily by the meet-cert-renewal timer).
     * @default Let's Encrypt production, no contact address, self-check on
     */
    acme: z
      .strictObject({
        /** Let's Encrypt's `production` CA or its `staging` CA (untrusted certificates, generous rate limits). @default "production" */
        directory: z
          .enum(['production', 'staging'], {
            error: (issue) => `"${String(issue.input)}" is neither "production" nor "staging" (Let's Encrypt's CAs)`,
          })
          .default('production'),
        /** Contact address of the ACME account (MEET_ACME_EMAIL), for the CA to reach the operators. @default none */
        email: z.email({ error: (issue) => `"${String(issue.input)}" is not an email address` }).optional(),
        /**
         * Before the CA validates, `certs` fetches http://<domain>/.well-known/acme-challenge/<token> itself, so a
         * broken set-up fails without spending a failed validation. That fetch goes from the host to its own floating
         * IP: set false where instances cannot reach it. Reaches meet-agent and meet-edge as MEET_ACME_SELF_CHECK=1|0,
         * so changing it replaces those two containers (the hosts' user data does not depend on it). @default true
         */
        selfCheck: z.boolean({ error: (issue) => `${JSON.stringify(issue.input)} is not true or false` }).default(true),
      })
      .default({ directory: 'production', selfCheck: true }),
    /** Daily backups of meet-auth's host to object storage. @default none (no timer, no backup secrets) */
    backup: backup.optional(),
    edge: z
      .strictObject({
        /**
         * A registry image for the edge/agent containers. @default built on each host from this repository
         * (edge/Dockerfile) and tagged with a hash of its sources
         */
        image: z
          .string()
          .regex(
            /^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)+(:[A-Za-z0-9._-]+)?@sha256:[a-f0-9]{64}$/,
            'must be pinned by digest (…@sha256:<64 hex>)',
          )
          .optional(),
        /** Serve HTTPS (needs the certificate under /srv/meet/certs; see the certs tooling). @default false */
        tls: z.boolean().default(false),
        logLevel: z.enum(LOGGING_LEVELS).default('info'),
      })
      .default({ tls: false, logLevel: 'info' }),
  })
  .superRefine((env, ctx) => {
    for (const key of ['meet', 'auth'] as const) {
      const fqdn = `${env.domains[key]}.`;
      if (!env.dns.zones.some((zone) => fqdn === zone || fqdn.endsWith(`.${zone}`))) {
        ctx.addIssue({
          code: 'custom',
          path: ['domains', key],
          message: `"${env.domains[key]}" is in none of the zones ${env.dns.zones.join(', ')}`,
        });
      }
    }
    if (env.domains.meet === env.domains.auth) {
      ctx.addIssue({ code: 'custom', path: ['domains', 'auth'], message: 'must differ from domains.meet' });
    }
    if (env.hosts.jvb.count > 0 && !env.hosts.jvb.flavor) {
      ctx.addIssue({
        code: 'custom',
        path: ['hosts', 'jvb', 'flavor'],
        message: 'is required when hosts.jvb.count > 0',
      });
    }
  });

export type EnvironmentInput = z.input<typeof environmentSchema>;
export type EnvironmentConfig = Readonly<z.output<typeof environmentSchema>>;

/** The one configuration error (common/config.ts), naming the environment. */
export class EnvironmentConfigError extends ConfigError {
  constructor(
    readonly environment: string,
    problems: readonly string[],
  ) {
    super(`invalid environment "${environment}"`, problems);
    this.name = 'EnvironmentConfigError';
  }
}

/** Validates an environment and lists every problem at once. */
export function parseEnvironment(input: unknown): EnvironmentConfig {
  const result = environmentSchema.safeParse(input);
  if (result.success) return Object.freeze(result.data);
  const name =
    typeof input === 'object' && input !== null && typeof (input as { name?: unknown }).name === 'string'
      ? (input as { name: string }).name
      : '?';
  const problems = problemsOf(result.error, '(root)');
  throw new EnvironmentConfigError(name, problems);
}
