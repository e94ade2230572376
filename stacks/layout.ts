/**
 * Where things live on the hosts, shared by the host files (which create the directories and timers) and the
 * containers (which mount them). Container names are fixed because the timers `docker exec` into them.
 */
import { DEFAULTS } from '../common/config.js';

/** Jitsi's rootless images run as this uid/gid and refuse to start when their storage is not writable by it. */
export const CONTAINER_UID = 1000;

const JITSI_ROOT = '/srv/jitsi';
const MEET_ROOT = '/srv/meet';
/**
 * Where a stateful host's Cinder volume is mounted (jitsi, meet-auth): everything that must outlive the instance
 * lives below it (Prosody's accounts, the agent's inbox and ACME account, meet-auth's registry, the certificates).
 * Everything else under /srv is rebuilt from configuration at each container start.
 */
export const STATE_ROOT = '/srv/state';

export const paths = {
  jitsiConfig: (service: 'web' | 'jicofo' | 'jvb') => `${JITSI_ROOT}/${service}`,
  prosodyConfig: `${JITSI_ROOT}/prosody/config`,
  prosodyPlugins: `${JITSI_ROOT}/prosody/prosody-plugins-custom`,
  /** Prosody's data (accounts, and its admin socket under data/); the agent shares it. On the state volume. */
  prosodyStorage: `${STATE_ROOT}/prosody`,
  webStorage: `${JITSI_ROOT}/storage/web`,
  transcripts: `${JITSI_ROOT}/storage/transcripts`,
  /** Our certificate: cert.crt (full chain) and cert.key, written by the certificate tooling. On the state volume. */
  certs: `${STATE_ROOT}/certs`,
  /** HTTP-01 challenge files, served by nginx in the web container (read-only there, at containerPaths.acmeChallenge). */
  acmeChallenge: `${MEET_ROOT}/acme-challenge`,
  /** The agent's inbox and the Jitsi host's ACME account (acme/). On the state volume. */
  agentData: `${STATE_ROOT}/agent`,
  /** meet-auth's registry, tickets, audit trail and the meet-auth host's ACME account (acme/). On the state volume. */
  edgeData: `${STATE_ROOT}/edge`,
} as const;

/** The state volume's directories per stateful host kind. */
export const stateDirectories = {
  jitsi: [paths.prosodyStorage, paths.certs, paths.agentData],
  'meet-auth': [paths.certs, paths.edgeData],
} as const;

/**
 * Directories the Jitsi containers mount on a host that runs the whole Jitsi set (11146+ layout); each is a bind
 * source (compose's jibri, web-crontabs and web-load-test directories are not: we run neither jibri nor them).
 */
export const jitsiDirectories: readonly string[] = [
  paths.jitsiConfig('web'),
  paths.jitsiConfig('jicofo'),
  paths.jitsiConfig('jvb'),
  paths.prosodyConfig,
  paths.prosodyPlugins,
  paths.prosodyStorage,
  paths.webStorage,
  paths.transcripts,
];

/** Inside the containers. */
export const containerPaths = {
  prosodyData: '/var/lib/prosody',
  prosodySocket: '/var/lib/prosody/data/prosody.sock',
  data: '/data',
  certs: '/certs',
  acmeChallenge: '/acme-challenge',
  webKeys: '/config/keys',
} as const;

export const containerNames = {
  web: 'jitsi-web',
  prosody: 'jitsi-prosody',
  jicofo: 'jitsi-jicofo',
  jvb: 'jitsi-jvb',
  agent: 'meet-agent',
  edge: 'meet-edge',
} as const;

/** The docker network the Jitsi containers share; named as in docker-jitsi-meet's compose file. */
export const JITSI_NETWORK = 'meet.jitsi';
/** Prosody's network alias, the default XMPP_SERVER of the Jitsi images. */
export const XMPP_SERVER_ALIAS = 'xmpp.meet.jitsi';
/** The XMPP domain of the Jitsi images' main virtual host (where user accounts live). */
export const XMPP_DOMAIN = DEFAULTS.xmppDomain;

export const ports = {
  http: 80,
  https: 443,
  jvbMedia: 10_000,
  xmppClient: 5222,
  agent: 4000,
  edge: 8080,
  /** meet-auth's plain-HTTP listener when it serves HTTPS on `edge`: ACME challenges and redirects (published on 80). */
  edgeHttp: 8081,
  ssh: 22,
} as const;
