/**
 * Extra video bridges, one per extra host: the jvb container only, logging in to the Jitsi host's Prosody over
 * the private network with the shared JVB account, each under its own nickname and its own advertised address.
 * Terraform cannot for_each providers, so each host keeps its own provider, image and container; what can be
 * shared is: the replace triggers are one for_each `terraform_data` keyed by nickname, whose input hashes the
 * same settings the containers get (nickname = each.key, advertised addresses = each.value.advertise_ips).
 */
import { ref, TerraformIterator, type TerraformProvider, Token } from 'cdktf';
import { Construct } from 'constructs';
import {
  advertiseIps,
  bind,
  checkJitsiTag,
  checkServicePassword,
  jitsiImage,
  publishedEverywhere,
  rootlessRuntime,
} from './jitsi-images.js';
import { renderedNow } from './hcl.js';
import { containerNames, paths, ports } from './layout.js';
import {
  containerSettings,
  ReplacedContainer,
  settingsHash,
  type ReplacedContainerProps,
} from './replaced-container.js';
import { SettingsTrigger } from './settings-trigger.js';

export interface ExtraJvbHost {
  /** Unique name of the bridge in the brewery room, e.g. "jvb-1" (the host's name). */
  readonly nickname: string;
  /** The docker provider of that host. */
  readonly provider: TerraformProvider;
  /** That host's public (floating) IPv4 address. */
  readonly advertiseIp: string;
  /** That host's global IPv6 address, advertised too. @default none */
  readonly advertiseIpv6?: string;
}

export interface ExtraJvbsProps {
  readonly hosts: readonly ExtraJvbHost[];
  readonly imageTag: string;
  /** @default "ghcr.io/jitsi" */
  readonly imageRepository?: string;
  /** The Jitsi host's private address (where Prosody publishes its client port). */
  readonly xmppServer: string;
  readonly jvbAuthPassword: string;
  /** @default "UTC" */
  readonly timezone?: string;
  /** @default 10000 */
  readonly jvbMediaPort?: number;
}

const NICKNAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export class ExtraJvbs extends Construct {
  /** One per host, in the order given. */
  readonly jvbs: readonly ReplacedContainer[];
  /** The for_each terraform_data holding every bridge's settings hash, keyed by nickname. */
  readonly trigger: SettingsTrigger;

  constructor(scope: Construct, id: string, props: ExtraJvbsProps) {
    super(scope, id);
    if (props.hosts.length === 0) throw new Error('ExtraJvbs needs at least one host');
    const nicknames = props.hosts.map((host) => host.nickname);
    for (const nickname of nicknames) {
      if (!NICKNAME.test(nickname))
        throw new Error(`JVB nickname "${nickname}" must be lower-case letters, digits and dashes`);
      if (nickname === 'jvb-main') throw new Error('JVB nickname "jvb-main" is the Jitsi host\'s own bridge');
    }
    const duplicate = nicknames.find((nickname, index) => nicknames.indexOf(nickname) !== index);
    if (duplicate !== undefined) throw new Error(`JVB nickname "${duplicate}" is given twice`);
    checkServicePassword('jvbAuthPassword', props.jvbAuthPassword);
    const mediaPort = props.jvbMediaPort ?? ports.jvbMedia;
    if (!Number.isInteger(mediaPort) || mediaPort < 1024 || mediaPort > 65_535)
      throw new Error(`jvbMediaPort ${mediaPort} must be a port between 1024 and 65535`);
    const imageName = `${props.imageRepository ?? 'ghcr.io/jitsi'}/jvb:${checkJitsiTag(props.imageTag)}`;

    // Everything but the provider and the image id: what the container runs, and what its trigger hashes.
    const settings = (nickname: string, advertised: string, xmppServer: string, password: string) =>
      ({
        ...rootlessRuntime,
        name: containerNames.jvb,
        imageName,
        env: [
          // No PUBLIC_URL: the jvb image never reads it at stable-11146-2.
          `TZ=${props.timezone ?? 'UTC'}`,
          `XMPP_SERVER=${xmppServer}`,
          `XMPP_PORT=${ports.xmppClient}`,
          `JVB_AUTH_PASSWORD=${password}`,
          `JVB_MUC_NICKNAME=${nickname}`,
          `JVB_ADVERTISE_IPS=${advertised}`,
          `JVB_PORT=${mediaPort}`,
        ],
        mounts: [bind(paths.jitsiConfig('jvb'), '/config')],
        ports: publishedEverywhere(mediaPort, mediaPort, 'udp'),
      }) satisfies Omit<ReplacedContainerProps, 'provider' | 'image'>;

    const perHost = TerraformIterator.fromMap(
      Object.fromEntries(
        props.hosts.map((host) => [
          host.nickname,
          { advertise_ips: advertiseIps(host.advertiseIp, host.advertiseIpv6) },
        ]),
      ),
    );
    // Plain references rather than the iterator's key/getString(): those are lazies that make a new token (and
    // capture a deep stack trace) each time cdktf re-resolves the nested hash expression, dozens of times per synth.
    const template = settings(
      Token.asString(ref('each.key')),
      Token.asString(ref('each.value.advertise_ips')),
      props.xmppServer,
      props.jvbAuthPassword,
    );
    this.trigger = new SettingsTrigger(
      this,
      'settings',
      { sha256: settingsHash(containerSettings({ ...template, image: '' })) },
      perHost,
    );

    // The containers repeat these per host: rendered once (the hash above keeps the tokens, as its function needs).
    const xmppServer = renderedNow(this, props.xmppServer);
    const password = renderedNow(this, props.jvbAuthPassword);
    this.jvbs = props.hosts.map((host) => {
      const image = jitsiImage(
        this,
        host.provider,
        props.imageRepository ?? 'ghcr.io/jitsi',
        'jvb',
        props.imageTag,
        `image-${host.nickname}`,
      );
      return new ReplacedContainer(this, host.nickname, {
        provider: host.provider,
        image: image.id,
        ...settings(host.nickname, advertiseIps(host.advertiseIp, host.advertiseIpv6), xmppServer, password),
        replacedBy: this.trigger.address(host.nickname),
      });
    });
  }
}
