/**
 * The account provisioning layer. On the Jitsi host: the agent, bound to the private address, running as
 * uid 1000 and sharing Prosody's data volume so it reaches Prosody's admin socket without the Docker socket
 * (the account worker timer runs `docker exec meet-agent node dist/scripts/create-accounts.mjs`). On the meet-auth
 * host: the public edge. Both run the image built from this repository (edge/Dockerfile) unless a
 * digest-pinned registry image is configured. Both also carry their host's certificate settings: the renewal
 * timer runs `docker exec <meet-agent|meet-edge> node dist/scripts/certs.mjs renew`, which reads them.
 */
import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import { z } from 'zod';
import type { DockerProvider } from '@cdktf/provider-docker/lib/provider/index.js';
import { deepFunctionSafe } from './hcl.js';
import { PlainImage } from './plain-docker.js';
import { bind, publishedEverywhere } from './jitsi-images.js';
import { CONTAINER_UID, containerNames, containerPaths, paths, ports, XMPP_DOMAIN } from './layout.js';
import { ReplacedContainer } from './replaced-container.js';

/** Where the edge/agent image comes from. */
export type EdgeImageSource =
  | { readonly kind: 'build'; /** Build context (the repository root), relative to the stack's directory. */ readonly context: string; /** Hash of the files that go into the image. */ readonly sourceHash: string }
  | { readonly kind: 'registry'; /** name[:tag]@sha256:<digest> */ readonly reference: string };

export interface EdgeImageRef {
  readonly name: string;
  readonly id: string;
}

/** The image on one host: built there from the repository (tagged by source hash) or pulled by digest. */
export function edgeImage(scope: Construct, id: string, provider: DockerProvider, source: EdgeImageSource): EdgeImageRef {
  if (source.kind === 'registry') {
    if (!/@sha256:[a-f0-9]{64}$/.test(source.reference)) throw new Error(`edge image "${source.reference}" must be pinned by digest`);
    const image = new PlainImage(scope, id, { provider, name: source.reference, keepLocally: true });
    return { name: source.reference, id: image.imageId };
  }
  if (!/^[a-f0-9]{16,64}$/.test(source.sourceHash)) throw new Error(`edge image source hash "${source.sourceHash}" is not a hex digest`);
  // The tag changes with the sources, so new code means a new image and, through it, new containers.
  const name = `wikimedia-meet/edge:${source.sourceHash.slice(0, 16)}`;
  const image = new PlainImage(scope, id, {
    provider,
    name,
    buildAttribute: { context: source.context, dockerfile: 'edge/Dockerfile', label: { 'org.wikimedia.meet.source': source.sourceHash } },
  });
  return { name, id: image.imageId };
}

/**
 * The services run compiled (npm run build → dist/) with plain node; the heap flags were chosen by measurement
 * (npm run bench -- edge): a 2 MiB young generation keeps meet-auth near 105 MB resident under a 500 req/s flood.
 */
export const EDGE_COMMAND = ['node', '--max-semi-space-size=2', '--max-old-space-size=96', 'dist/edge/auth/main.js'] as const;
export const AGENT_COMMAND = ['node', '--max-semi-space-size=2', '--max-old-space-size=64', 'dist/edge/agent/main.js'] as const;

/** The certificate one host obtains and renews (see `npm run certs -- --help`). */
export interface CertificateSettings {
  /** Names to cover; the first is the common name. */
  readonly domains: readonly string[];
  /** "production", "staging" or an ACME directory URL. @default "production" (Let's Encrypt) */
  readonly acmeDirectory?: string;
  /** Contact address for the ACME account. @default none */
  readonly acmeEmail?: string;
  /**
   * Whether `certs` fetches each challenge URL itself before the CA validates it (MEET_ACME_SELF_CHECK), here and
   * not in the timer's command line, so changing it replaces this container rather than the host.
   * @default unset: `certs`' own default, on
   */
  readonly acmeSelfCheck?: boolean;
  /** Renew when the certificate expires within this many days. @default 30 */
  readonly renewDays?: number;
}

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;
/** What `certs` accepts as MEET_ACME_DIRECTORY; no quotes, spaces or `${`, which Terraform would interpolate. */
const ACME_DIRECTORY = /^(production|staging|https:\/\/[a-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~/-]*)?)$/;

/** The environment of `certs` inside a container: the names, and the directories as mounted there. */
export function certificateEnv(settings: CertificateSettings): string[] {
  if (settings.domains.length === 0) throw new Error('the certificate needs at least one domain');
  for (const domain of settings.domains) if (!DOMAIN.test(domain)) throw new Error(`certificate domain "${domain}" is not a lower-case DNS name`);
  if (settings.renewDays !== undefined && !(Number.isInteger(settings.renewDays) && settings.renewDays >= 1 && settings.renewDays <= 365)) {
    throw new Error(`renewDays ${settings.renewDays} must be a whole number from 1 to 365`);
  }
  if (settings.acmeDirectory !== undefined && !ACME_DIRECTORY.test(settings.acmeDirectory)) {
    throw new Error(`acmeDirectory "${settings.acmeDirectory}" is neither "production", "staging" nor an https URL of an ACME directory`);
  }
  if (settings.acmeEmail !== undefined && !z.email().safeParse(settings.acmeEmail).success) throw new Error(`acmeEmail "${settings.acmeEmail}" is not an email address`);
  return [
    `MEET_CERT_DOMAINS=${settings.domains.join(',')}`,
    `MEET_CERTS_DIR=${containerPaths.certs}`,
    `MEET_ACME_CHALLENGE_DIR=${containerPaths.acmeChallenge}`,
    ...(settings.acmeDirectory ? [`MEET_ACME_DIRECTORY=${settings.acmeDirectory}`] : []),
    ...(settings.acmeEmail ? [`MEET_ACME_EMAIL=${settings.acmeEmail}`] : []),
    ...(settings.acmeSelfCheck !== undefined ? [`MEET_ACME_SELF_CHECK=${settings.acmeSelfCheck ? 1 : 0}`] : []),
    ...(settings.renewDays !== undefined ? [`MEET_CERT_RENEW_DAYS=${settings.renewDays}`] : []),
  ];
}

const runtime = {
  restart: 'unless-stopped',
  readOnly: true,
  user: `${CONTAINER_UID}:${CONTAINER_UID}`,
  tmpfs: { '/tmp': 'size=64M,mode=1777' },
  logDriver: 'json-file',
  logOpts: { 'max-size': '20m', 'max-file': '5' },
} as const;

export interface MeetAgentProps {
  readonly provider: DockerProvider;
  readonly image: EdgeImageRef;
  /** The Jitsi host's private address; the agent port is published there only. */
  readonly privateIp: string;
  readonly signingSecrets: string;
  readonly sealingPrivateKeys: string;
  /** The Jitsi host's certificate (the meeting domain), renewed from this container into /srv/meet/certs. */
  readonly certificate: CertificateSettings;
  /** @default 4000 */
  readonly port?: number;
  /** @default "meet.jitsi" */
  readonly xmppDomain?: string;
  /** @default "info" */
  readonly logLevel?: string;
}

export class MeetAgent extends Construct {
  readonly agent: ReplacedContainer;
  readonly port: number;

  constructor(scope: Construct, id: string, props: MeetAgentProps) {
    super(scope, id);
    this.port = props.port ?? ports.agent;
    if (!Number.isInteger(this.port) || this.port < 1024 || this.port > 65_535) throw new Error(`agent port ${this.port} must be between 1024 and 65535`);
    const xmppDomain = props.xmppDomain ?? XMPP_DOMAIN;
    if (!/^[a-z0-9.-]+$/.test(xmppDomain)) throw new Error(`xmppDomain "${xmppDomain}" is not a domain name`);
    this.agent = new ReplacedContainer(this, 'agent', {
      provider: props.provider, ...runtime, name: containerNames.agent, image: props.image.id, imageName: props.image.name,
      command: [...AGENT_COMMAND],
      // On the host's network, so the agent itself binds the private address (it refuses 0.0.0.0 and public
      // addresses); it needs no other network: Prosody is reached through the admin socket on the shared volume.
      networkMode: 'host',
      env: [
        `MEET_DATA_DIR=${containerPaths.data}`, `MEET_AGENT_HOST=${props.privateIp}`, `MEET_AGENT_PORT=${this.port}`,
        `MEET_AGENT_SIGNING_SECRETS=${props.signingSecrets}`, `MEET_AGENT_SEALING_KEYS=${props.sealingPrivateKeys}`,
        `MEET_PROSODY_SOCKET=${containerPaths.prosodySocket}`, `MEET_XMPP_DOMAIN=${xmppDomain}`, 'MEET_PROSODY_MODE=socket',
        `MEET_LOG_LEVEL=${props.logLevel ?? 'info'}`, ...certificateEnv(props.certificate),
      ],
      mounts: [
        // Read-only: the agent only connects to the admin socket in it, and connect() on a unix socket needs no
        // write access to the mount (test/stacks/agent-socket-mount.test.ts, with a real Prosody 13).
        bind(paths.prosodyStorage, containerPaths.prosodyData, true),
        bind(paths.agentData, containerPaths.data),
        bind(paths.certs, containerPaths.certs),
        bind(paths.acmeChallenge, containerPaths.acmeChallenge),
      ],
    });
  }
}

/** One agent the edge sends jobs to. */
export interface AgentEndpoint {
  readonly name: string;
  readonly url: string;
  readonly sealingPublicKey: string;
  readonly signingSecrets: string;
}

export interface MeetEdgeProps {
  readonly provider: DockerProvider;
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
}

export class MeetEdge extends Construct {
  readonly edge: ReplacedContainer;

  constructor(scope: Construct, id: string, props: MeetEdgeProps) {
    super(scope, id);
    if (!/^https?:\/\/[a-z0-9.-]+(:\d+)?$/.test(props.publicUrl)) throw new Error(`publicUrl "${props.publicUrl}" must be an http(s) origin without a path`);
    if (props.meetingUrl !== undefined && !/^https?:\/\/[a-z0-9.-]+(:\d+)?\/?$/.test(props.meetingUrl)) throw new Error(`meetingUrl "${props.meetingUrl}" must be an http(s) origin`);
    if (props.agents.length === 0) throw new Error('the edge needs at least one agent');
    const names = props.agents.map((agent) => agent.name);
    const duplicate = names.find((name, index) => names.indexOf(name) !== index);
    if (duplicate !== undefined) throw new Error(`agent name "${duplicate}" is given twice`);
    const tls = props.tls ?? false;
    // The JSON documents are built by Terraform, because they hold secrets and cross-stack addresses.
    const agents = Fn.jsonencode(deepFunctionSafe(props.agents.map(({ name, url, sealingPublicKey }) => ({ name, url, sealingPublicKey }))));
    const secrets = Fn.jsonencode(Object.fromEntries(props.agents.map((agent) => [agent.name, agent.signingSecrets])));
    this.edge = new ReplacedContainer(this, 'edge', {
      provider: props.provider, ...runtime, name: containerNames.edge, image: props.image.id, imageName: props.image.name,
      command: [...EDGE_COMMAND],
      env: [
        `MEET_DATA_DIR=${containerPaths.data}`, 'MEET_AUTH_HOST=0.0.0.0', `MEET_AUTH_PORT=${ports.edge}`,
        `MEET_PUBLIC_URL=${props.publicUrl}`, `MEET_AGENTS=${agents}`, `MEET_AGENT_SIGNING_SECRETS=${secrets}`,
        `MEET_LOG_LEVEL=${props.logLevel ?? 'info'}`,
        ...(props.metricsToken !== undefined ? [`MEET_METRICS_TOKEN=${props.metricsToken}`] : []),
        ...(props.meetingUrl ? [`MEET_MEETING_URL=${props.meetingUrl}`] : []),
        ...(tls ? [`MEET_TLS_CERT=${containerPaths.certs}/cert.crt`, `MEET_TLS_KEY=${containerPaths.certs}/cert.key`, `MEET_AUTH_HTTP_PORT=${ports.edgeHttp}`] : []),
        // Read by meet-auth (it serves the challenge files) and by `certs` (it writes them).
        ...certificateEnv(props.certificate),
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
