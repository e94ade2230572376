/**
 * The agent on the Jitsi host, bound to the private address, running as uid 1000 and sharing Prosody's data volume
 * so it reaches Prosody's admin socket without the Docker socket (the account worker timer runs
 * `docker exec meet-agent node dist/scripts/create-accounts.mjs`). It also renews the Jitsi host's certificate.
 */
import type { TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { certificateEnv, type CertificateSettings } from './certificate-env.js';
import { EDGE_CONTAINER_RUNTIME, type EdgeImageRef } from './edge-image.js';
import { AGENT_COMMAND } from './heap-flags.js';
import { bind } from './jitsi-images.js';
import { containerNames, containerPaths, paths, ports, XMPP_DOMAIN } from './layout.js';
import { ReplacedContainer } from './replaced-container.js';

export interface MeetAgentProps {
  readonly provider: TerraformProvider;
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
  readonly container: ReplacedContainer;
  readonly port: number;

  constructor(scope: Construct, id: string, props: MeetAgentProps) {
    super(scope, id);
    this.port = props.port ?? ports.agent;
    if (!Number.isInteger(this.port) || this.port < 1024 || this.port > 65_535)
      throw new Error(`agent port ${this.port} must be between 1024 and 65535`);
    const xmppDomain = props.xmppDomain ?? XMPP_DOMAIN;
    if (!/^[a-z0-9.-]+$/.test(xmppDomain)) throw new Error(`xmppDomain "${xmppDomain}" is not a domain name`);
    this.container = new ReplacedContainer(this, 'agent', {
      provider: props.provider,
      ...EDGE_CONTAINER_RUNTIME,
      name: containerNames.agent,
      image: props.image.id,
      imageName: props.image.name,
      command: [...AGENT_COMMAND],
      // On the host's network, so the agent itself binds the private address (it refuses 0.0.0.0 and public
      // addresses); it needs no other network: Prosody is reached through the admin socket on the shared volume.
      networkMode: 'host',
      env: [
        `MEET_DATA_DIR=${containerPaths.data}`,
        `MEET_AGENT_HOST=${props.privateIp}`,
        `MEET_AGENT_PORT=${this.port}`,
        `MEET_AGENT_SIGNING_SECRETS=${props.signingSecrets}`,
        `MEET_AGENT_SEALING_KEYS=${props.sealingPrivateKeys}`,
        `MEET_PROSODY_SOCKET=${containerPaths.prosodySocket}`,
        `MEET_XMPP_DOMAIN=${xmppDomain}`,
        'MEET_PROSODY_MODE=socket',
        `MEET_LOG_LEVEL=${props.logLevel ?? 'info'}`,
        ...certificateEnv(props.certificate),
      ],
      mounts: [
        // Read-only: the agent only connects to the admin socket in it, and connect() on a unix socket needs no
        // write access to the mount (test/stacks/agent-socket-mount.int.test.ts, with a real Prosody 13).
        bind(paths.prosodyStorage, containerPaths.prosodyData, true),
        bind(paths.agentData, containerPaths.data),
        bind(paths.certs, containerPaths.certs),
        bind(paths.acmeChallenge, containerPaths.acmeChallenge),
      ],
    });
  }
}
