/**
 * An extra video bridge on its own host: the jvb container only, logging in to the Jitsi host's Prosody over
 * the private network with the shared JVB account, under its own nickname and its own advertised address.
 */
import { Construct } from 'constructs';
import type { DockerProvider } from '@cdktf/provider-docker/lib/provider/index.js';
import { bind, jitsiImage, rootlessRuntime } from './jitsi-images.js';
import { containerNames, paths, ports } from './layout.js';
import { ReplacedContainer } from './replaced-container.js';

export interface ExtraJvbProps {
  readonly provider: DockerProvider;
  readonly imageTag: string;
  /** @default "ghcr.io/jitsi" */
  readonly imageRepository?: string;
  /** Unique name of this bridge in the brewery room, e.g. "jvb-1". */
  readonly nickname: string;
  /** The Jitsi host's private address (where Prosody publishes its client port). */
  readonly xmppServer: string;
  /** This host's public address. */
  readonly advertiseIp: string;
  readonly jvbAuthPassword: string;
  readonly publicUrl: string;
  /** @default "UTC" */
  readonly timezone?: string;
  /** @default 10000 */
  readonly jvbMediaPort?: number;
}

export class ExtraJvb extends Construct {
  readonly jvb: ReplacedContainer;

  constructor(scope: Construct, id: string, props: ExtraJvbProps) {
    super(scope, id);
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(props.nickname)) throw new Error(`JVB nickname "${props.nickname}" must be lower-case letters, digits and dashes`);
    if (props.nickname === 'jvb-main') throw new Error('JVB nickname "jvb-main" is the Jitsi host\'s own bridge');
    const mediaPort = props.jvbMediaPort ?? ports.jvbMedia;
    if (!Number.isInteger(mediaPort) || mediaPort < 1024 || mediaPort > 65_535) throw new Error(`jvbMediaPort ${mediaPort} must be a port between 1024 and 65535`);
    const image = jitsiImage(this, props.provider, props.imageRepository ?? 'ghcr.io/jitsi', 'jvb', props.imageTag);
    this.jvb = new ReplacedContainer(this, 'jvb', {
      provider: props.provider, ...rootlessRuntime, name: containerNames.jvb, image: image.id, imageName: image.name,
      env: [
        `TZ=${props.timezone ?? 'UTC'}`, `PUBLIC_URL=${props.publicUrl}`,
        `XMPP_SERVER=${props.xmppServer}`, `XMPP_PORT=${ports.xmppClient}`,
        `JVB_AUTH_PASSWORD=${props.jvbAuthPassword}`, `JVB_MUC_NICKNAME=${props.nickname}`,
        `JVB_ADVERTISE_IPS=${props.advertiseIp}`, `JVB_PORT=${mediaPort}`,
      ],
      mounts: [bind(paths.jitsiConfig('jvb'), '/config')],
      ports: [{ internal: mediaPort, external: mediaPort, protocol: 'udp' }],
    });
  }
}
