/**
 * Jitsi Meet on the Jitsi host: web, prosody, jicofo and jvb on the `meet.jitsi` network, with internal
 * authentication on each container that reads it (a missing one lets everyone in as a guest), HTTP→HTTPS
 * redirect, our own certificate and the ACME challenge directory served by web. Each container gets only the
 * variables its image reads at the tag: ENABLE_AUTH (web, prosody, jicofo), AUTH_TYPE (prosody, jicofo),
 * ENABLE_GUESTS (web, prosody), PUBLIC_URL (web, prosody); an unread one would still replace its container.
 */
import type { TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { Network } from '@cdktf/provider-docker/lib/network/index.js';
import {
  advertiseIps,
  bind,
  checkServicePassword,
  jitsiImage,
  publishedEverywhere,
  rootlessRuntime,
} from './jitsi-images.js';
import { webEntrypoint, WEB_NGINX_RESOLVER_ENV } from './jitsi-web.js';
import { containerNames, containerPaths, JITSI_NETWORK, paths, ports, XMPP_SERVER_ALIAS } from './layout.js';
import { ReplacedContainer } from './replaced-container.js';

export interface JitsiProps {
  readonly provider: TerraformProvider;
  /** Pinned release, e.g. "stable-11146-2". */
  readonly imageTag: string;
  /** @default "ghcr.io/jitsi" */
  readonly imageRepository?: string;
  /** Public URL of the meeting site, e.g. https://meet.wmcloud.org */
  readonly publicUrl: string;
  /** The host's public (floating) IPv4 address, advertised by JVB to browsers. */
  readonly advertiseIp: string;
  /** The host's global IPv6 address, advertised by JVB too. @default none (IPv4 only) */
  readonly advertiseIpv6?: string;
  /** The host's private address; Prosody's client port is published there for extra JVB hosts. */
  readonly privateIp: string;
  /** Publish Prosody's client port on the private address (for extra JVB hosts). @default false */
  readonly publishXmpp?: boolean;
  /** Let guests join rooms an authenticated user opened. @default true */
  readonly enableGuests?: boolean;
  /** @default "UTC" */
  readonly timezone?: string;
  /** @default 10000 */
  readonly jvbMediaPort?: number;
  readonly jicofoAuthPassword: string;
  readonly jvbAuthPassword: string;
}

export class Jitsi extends Construct {
  readonly web: ReplacedContainer;
  readonly prosody: ReplacedContainer;
  readonly jicofo: ReplacedContainer;
  readonly jvb: ReplacedContainer;

  constructor(scope: Construct, id: string, props: JitsiProps) {
    super(scope, id);
    if (!/^https:\/\/[a-z0-9.-]+(:\d+)?$/.test(props.publicUrl))
      throw new Error(`publicUrl "${props.publicUrl}" must be an https:// origin without a path`);
    const mediaPort = props.jvbMediaPort ?? ports.jvbMedia;
    if (!Number.isInteger(mediaPort) || mediaPort < 1024 || mediaPort > 65_535)
      throw new Error(`jvbMediaPort ${mediaPort} must be a port between 1024 and 65535`);
    checkServicePassword('jicofoAuthPassword', props.jicofoAuthPassword);
    checkServicePassword('jvbAuthPassword', props.jvbAuthPassword);
    const { provider } = props;
    const repository = props.imageRepository ?? 'ghcr.io/jitsi';
    const timezone = props.timezone ?? 'UTC';
    const image = (service: 'web' | 'prosody' | 'jicofo' | 'jvb') =>
      jitsiImage(this, provider, repository, service, props.imageTag);

    const network = new Network(this, 'network', { provider, name: JITSI_NETWORK });
    const onNetwork = (aliases?: string[]) => [{ name: network.name, ...(aliases ? { aliases } : {}) }];
    // Read at stable-11146-2 by: ENABLE_AUTH web/rootfs/defaults/system-config.js:3, jicofo/rootfs/defaults/jicofo.conf:1
    // and prosody; AUTH_TYPE jicofo.conf:4 and prosody; ENABLE_GUESTS system-config.js:5 and prosody; PUBLIC_URL
    // web/rootfs/defaults/settings-config.js:37 and prosody. Not read: AUTH_TYPE by web, ENABLE_GUESTS by jicofo,
    // PUBLIC_URL by jvb (test/stacks/jitsi.test.ts greps the images' files for each).
    const enableAuth = 'ENABLE_AUTH=1';
    const authType = 'AUTH_TYPE=internal';
    const enableGuests = `ENABLE_GUESTS=${(props.enableGuests ?? true) ? 1 : 0}`;
    const tz = `TZ=${timezone}`;
    const publicUrl = `PUBLIC_URL=${props.publicUrl}`;

    const web = image('web');
    this.web = new ReplacedContainer(this, 'web', {
      provider,
      ...rootlessRuntime,
      name: containerNames.web,
      image: web.id,
      imageName: web.name,
      env: [
        enableAuth,
        enableGuests,
        tz,
        publicUrl,
        'ENABLE_HTTP_REDIRECT=1',
        'ENABLE_LETSENCRYPT=0',
        'DISABLE_HTTPS=0',
        WEB_NGINX_RESOLVER_ENV,
      ],
      // Writes the challenge location into /config/nginx-custom, then runs the image's /init (stacks/jitsi-web.ts).
      entrypoint: webEntrypoint(),
      mounts: [
        bind(paths.jitsiConfig('web'), '/config'),
        bind(paths.webStorage, '/storage'),
        bind(paths.transcripts, '/usr/share/jitsi-meet/transcripts', true),
        // Our certificate (cert.crt, cert.key); web copies it into /storage at start, so it is read-only here.
        bind(paths.certs, containerPaths.webKeys, true),
        // Challenge files, served by the nginx-custom location; at a path of its own, never under /run or .well-known.
        bind(paths.acmeChallenge, containerPaths.acmeChallenge, true),
      ],
      // Since stable-11146 nginx listens on 8000/8443 inside the (rootless) container, on IPv4 and IPv6 of the host.
      ports: [...publishedEverywhere(8000, ports.http), ...publishedEverywhere(8443, ports.https)],
      networksAdvanced: onNetwork(),
    });

    const prosody = image('prosody');
    this.prosody = new ReplacedContainer(this, 'prosody', {
      provider,
      ...rootlessRuntime,
      name: containerNames.prosody,
      image: prosody.id,
      imageName: prosody.name,
      env: [
        enableAuth,
        authType,
        enableGuests,
        tz,
        publicUrl,
        `JICOFO_AUTH_PASSWORD=${props.jicofoAuthPassword}`,
        `JVB_AUTH_PASSWORD=${props.jvbAuthPassword}`,
      ],
      mounts: [
        bind(paths.prosodyConfig, '/config'),
        bind(paths.prosodyPlugins, '/prosody-plugins-custom'),
        bind(paths.prosodyStorage, containerPaths.prosodyData),
      ],
      ports: props.publishXmpp
        ? [{ internal: ports.xmppClient, external: ports.xmppClient, ip: props.privateIp }]
        : undefined,
      networksAdvanced: onNetwork([XMPP_SERVER_ALIAS]),
    });

    const jicofo = image('jicofo');
    this.jicofo = new ReplacedContainer(this, 'jicofo', {
      provider,
      ...rootlessRuntime,
      name: containerNames.jicofo,
      image: jicofo.id,
      imageName: jicofo.name,
      env: [enableAuth, authType, tz, `JICOFO_AUTH_PASSWORD=${props.jicofoAuthPassword}`],
      mounts: [bind(paths.jitsiConfig('jicofo'), '/config')],
      networksAdvanced: onNetwork(),
      dependsOn: [this.prosody.container],
    });

    const jvb = image('jvb');
    this.jvb = new ReplacedContainer(this, 'jvb', {
      provider,
      ...rootlessRuntime,
      name: containerNames.jvb,
      image: jvb.id,
      imageName: jvb.name,
      env: [
        tz,
        `JVB_AUTH_PASSWORD=${props.jvbAuthPassword}`,
        `JVB_ADVERTISE_IPS=${advertiseIps(props.advertiseIp, props.advertiseIpv6)}`,
        `JVB_PORT=${mediaPort}`,
        'JVB_MUC_NICKNAME=jvb-main',
      ],
      mounts: [bind(paths.jitsiConfig('jvb'), '/config')],
      ports: publishedEverywhere(mediaPort, mediaPort, 'udp'),
      networksAdvanced: onNetwork(),
      dependsOn: [this.prosody.container],
    });
  }
}
