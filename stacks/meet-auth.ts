/**
 * meet-auth on its host: the public web service that redeems tickets and sends account requests to the agents.
 * It also renews the meet-auth host's certificate and, with TLS, serves it.
 */
import { Fn, type TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { certificateEnv, type CertificateSettings } from './certificate-env.js';
import { EDGE_CONTAINER_RUNTIME, type EdgeImageRef } from './edge-image.js';
import { deepFunctionSafe } from './hcl.js';
import { MEET_AUTH_COMMAND } from './heap-flags.js';
import { bind, publishedEverywhere } from './jitsi-images.js';
import { containerNames, containerPaths, paths, ports } from './layout.js';
import { ReplacedContainer } from './replaced-container.js';
import type { BackupSecrets } from './secrets.js';
import { ENVIRONMENT_NAME } from '../common/config.js';

/** One agent meet-auth sends jobs to. */
export interface AgentEndpoint {
  readonly name: string;
  readonly url: string;
  readonly sealingPublicKey: string;
  readonly signingSecrets: string;
}

/**
 * What `backup` and `restore` read in meet-edge (scripts/lib/backup/cli.ts): where the object storage is, the
 * environment archives are bound to, and the secrets (sensitive variables: they reach only this environment).
 */
export interface EdgeBackupSettings {
  /** MEET_ENVIRONMENT: an archive opens only in the environment that made it. */
  readonly environment: string;
  readonly endpoint: string;
  readonly region: string;
  readonly forcePathStyle: boolean;
  readonly secrets: BackupSecrets;
}

export interface MeetAuthProps {
  readonly provider: TerraformProvider;
  readonly image: EdgeImageRef;
  /** Public origin, e.g. https://auth.meet.wmcloud.org */
  readonly publicUrl: string;
  /** The meeting site the status page links new accounts to (MEET_MEETING_URL), e.g. https://meet.wmcloud.org */
  readonly meetingUrl?: string;
  readonly agents: readonly AgentEndpoint[];
  /** The meet-auth host's certificate, renewed from this container into /srv/meet/certs. */
  readonly certificate: CertificateSettings;
  /**
   * Serve HTTPS with /srv/meet/certs/cert.{crt,key} on 443 (reloaded when renewed) and, on 80, only ACME
   * challenges and redirects to HTTPS; instead of everything over HTTP on 80. @default false
   */
  readonly tls?: boolean;
  /** @default "info" */
  readonly logLevel?: string;
  /** Bearer token /metrics requires (sensitive); "" or absent: no /metrics. */
  readonly metricsToken?: string;
  /** Daily backups (the meet-backup timer runs them in this container). @default none */
  readonly backup?: EdgeBackupSettings;
}

/** meet-edge's backup environment, checked. */
export function backupEnv(backup: EdgeBackupSettings): string[] {
  if (!ENVIRONMENT_NAME.test(backup.environment))
    throw new Error(`backup environment "${backup.environment}" must be lower-case letters, digits and dashes`);
  if (!/^https:\/\/[a-z0-9.-]+(:\d{1,5})?\/?$/.test(backup.endpoint))
    throw new Error(
      `backup endpoint "${backup.endpoint}" must be an https origin such as https://object.eqiad1.wikimediacloud.org`,
    );
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(backup.region))
    throw new Error(`backup region "${backup.region}" must be a region name such as "eqiad1"`);
  return [
    `MEET_ENVIRONMENT=${backup.environment}`,
    `MEET_S3_ENDPOINT=${backup.endpoint}`,
    `MEET_S3_REGION=${backup.region}`,
    `MEET_S3_FORCE_PATH_STYLE=${backup.forcePathStyle ? 1 : 0}`,
    `AWS_ACCESS_KEY_ID=${backup.secrets.accessKeyId}`,
    `AWS_SECRET_ACCESS_KEY=${backup.secrets.secretAccessKey}`,
    `MEET_BACKUP_KEY=${backup.secrets.backupKey}`,
  ];
}

export class MeetAuth extends Construct {
  readonly container: ReplacedContainer;

  constructor(scope: Construct, id: string, props: MeetAuthProps) {
    super(scope, id);
    if (!/^https?:\/\/[a-z0-9.-]+(:\d+)?$/.test(props.publicUrl))
      throw new Error(`publicUrl "${props.publicUrl}" must be an http(s) origin without a path`);
    if (props.meetingUrl !== undefined && !/^https?:\/\/[a-z0-9.-]+(:\d+)?\/?$/.test(props.meetingUrl))
      throw new Error(`meetingUrl "${props.meetingUrl}" must be an http(s) origin`);
    if (props.agents.length === 0) throw new Error('the edge needs at least one agent');
    const names = props.agents.map((agent) => agent.name);
    const duplicate = names.find((name, index) => names.indexOf(name) !== index);
    if (duplicate !== undefined) throw new Error(`agent name "${duplicate}" is given twice`);
    const tls = props.tls ?? false;
    // The JSON documents are built by Terraform, because they hold secrets and cross-stack addresses.
    const agents = Fn.jsonencode(
      deepFunctionSafe(props.agents.map(({ name, url, sealingPublicKey }) => ({ name, url, sealingPublicKey }))),
    );
    const secrets = Fn.jsonencode(Object.fromEntries(props.agents.map((agent) => [agent.name, agent.signingSecrets])));
    this.container = new ReplacedContainer(this, 'edge', {
      provider: props.provider,
      ...EDGE_CONTAINER_RUNTIME,
      name: containerNames.edge,
      image: props.image.id,
      imageName: props.image.name,
      command: [...MEET_AUTH_COMMAND],
      env: [
        `MEET_DATA_DIR=${containerPaths.data}`,
        'MEET_AUTH_HOST=0.0.0.0',
        `MEET_AUTH_PORT=${ports.edge}`,
        `MEET_PUBLIC_URL=${props.publicUrl}`,
        `MEET_AGENTS=${agents}`,
        `MEET_AGENT_SIGNING_SECRETS=${secrets}`,
        `MEET_LOG_LEVEL=${props.logLevel ?? 'info'}`,
        ...(props.metricsToken !== undefined ? [`MEET_METRICS_TOKEN=${props.metricsToken}`] : []),
        ...(props.meetingUrl ? [`MEET_MEETING_URL=${props.meetingUrl}`] : []),
        ...(tls
          ? [
              `MEET_TLS_CERT=${containerPaths.certs}/cert.crt`,
              `MEET_TLS_KEY=${containerPaths.certs}/cert.key`,
              `MEET_AUTH_HTTP_PORT=${ports.edgeHttp}`,
            ]
          : []),
        // Read by meet-auth (it serves the challenge files) and by `certs` (it writes them).
        ...certificateEnv(props.certificate),
        ...(props.backup ? backupEnv(props.backup) : []),
      ],
      mounts: [
        bind(paths.edgeData, containerPaths.data),
        bind(paths.certs, containerPaths.certs),
        bind(paths.acmeChallenge, containerPaths.acmeChallenge),
      ],
      // The CA validates HTTP-01 on port 80 only, so with TLS port 80 stays open for the challenges.
      ports: tls
        ? [...publishedEverywhere(ports.edge, ports.https), ...publishedEverywhere(ports.edgeHttp, ports.http)]
        : publishedEverywhere(ports.edge, ports.http),
    });
  }
}
