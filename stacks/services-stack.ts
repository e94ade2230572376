/**
 * `<env>-services`: everything Docker, over ssh to each host's private address through the bastion. Reads the
 * hosts' addresses from the state outputs of `<env>-cloud` (one terraform_remote_state with stable output
 * names; the stack dependency makes `cdktf deploy` apply the cloud stack first).
 */
import { TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { configureBackend, remoteState, remoteStateOutput } from './backend.js';
import { hostOutputNames, JVB_OUTPUTS, type CloudStack, type HostAddresses } from './cloud-stack.js';
import type { EnvironmentConfig } from './config.js';
import { edgeImage, type EdgeImageSource } from './edge-image.js';
import { renderedNow } from './hcl.js';
import { Jitsi } from './jitsi.js';
import { ExtraJvbs } from './jvb.js';
import { MeetAgent } from './meet-agent.js';
import { MeetAuth } from './meet-auth.js';
import { PlainDockerProvider } from './plain-docker.js';
import { declareBackupSecrets, declareSecrets } from './secrets.js';
import { sshUserVariable } from './ssh.js';

export interface ServicesStackProps {
  readonly env: EnvironmentConfig;
  readonly cloud: CloudStack;
  readonly edgeImage: EdgeImageSource;
}

export class ServicesStack extends TerraformStack {
  constructor(scope: Construct, id: string, { env, cloud: cloudStack, edgeImage: imageSource }: ServicesStackProps) {
    super(scope, id);
    configureBackend(this, id, env.state);
    this.addDependency(cloudStack);
    const cloudState = remoteState(this, 'cloud', cloudStack.node.id, env.state);
    const addresses = (name: string): HostAddresses => {
      const outputs = hostOutputNames(name);
      return {
        name,
        privateIp: cloudState.getString(outputs.privateIp),
        publicIp: cloudState.getString(outputs.publicIp),
        ipv6: cloudState.getString(outputs.ipv6),
      };
    };
    // The extra JVB hosts come as maps keyed by host name; plain references, as they are read once per host.
    const jvbAddresses = (name: string): HostAddresses => ({
      name,
      privateIp: remoteStateOutput(cloudState, JVB_OUTPUTS.privateIps, name),
      publicIp: remoteStateOutput(cloudState, JVB_OUTPUTS.publicIps, name),
      ipv6: remoteStateOutput(cloudState, JVB_OUTPUTS.ipv6s, name),
    });
    const [jitsiName, meetAuthName, ...jvbNames] = cloudStack.hostNames;
    const cloud = {
      jitsi: addresses(jitsiName!),
      meetAuth: addresses(meetAuthName!),
      jvbHosts: jvbNames.map(jvbAddresses),
    };
    const secrets = declareSecrets(this);
    const sshUser = sshUserVariable(this, env);
    const docker = (host: HostAddresses) =>
      new PlainDockerProvider(this, `docker-${host.name}`, {
        alias: host.name,
        // The operator's shell name (LDAP key; the hosts' docker group follows the project's LDAP group).
        host: renderedNow(this, `ssh://${sshUser}@${host.privateIp}`),
        // kreuzwerker/docker v3.6.2 internal/provider/config.go:122 hands these to the docker CLI's ssh connection
        // helper, which runs the ssh binary. Cloud VPS instances take ssh only from the bastions (whose user, key and host key ssh reads from
        // ~/.ssh/config: -o options do not reach a ProxyJump hop). The host key was learned by the cloud stack's
        // readiness gate (which also forgets the key of a replaced host); BatchMode: never prompt without a TTY.
        sshOpts: [
          '-o',
          `ProxyJump=${env.ssh.bastion}`,
          '-o',
          'StrictHostKeyChecking=accept-new',
          '-o',
          'BatchMode=yes',
          '-o',
          'ServerAliveInterval=30',
        ],
      });

    const jitsiDocker = docker(cloud.jitsi);
    const meetUrl = `https://${env.domains.meet}`;
    new Jitsi(this, 'jitsi', {
      provider: jitsiDocker,
      imageTag: env.jitsi.imageTag,
      imageRepository: env.jitsi.imageRepository,
      publicUrl: meetUrl,
      advertiseIp: cloud.jitsi.publicIp,
      advertiseIpv6: cloud.jitsi.ipv6,
      privateIp: cloud.jitsi.privateIp,
      publishXmpp: cloud.jvbHosts.length > 0,
      enableGuests: env.jitsi.enableGuests,
      timezone: env.jitsi.timezone,
      jicofoAuthPassword: secrets.jicofoAuthPassword,
      jvbAuthPassword: secrets.jvbAuthPassword,
    });
    if (cloud.jvbHosts.length > 0) {
      new ExtraJvbs(this, 'jvb', {
        hosts: cloud.jvbHosts.map((host) => ({
          nickname: host.name,
          provider: docker(host),
          advertiseIp: host.publicIp,
          advertiseIpv6: host.ipv6,
        })),
        imageTag: env.jitsi.imageTag,
        imageRepository: env.jitsi.imageRepository,
        xmppServer: cloud.jitsi.privateIp,
        jvbAuthPassword: secrets.jvbAuthPassword,
        timezone: env.jitsi.timezone,
      });
    }

    // Both hosts get their certificates from the environment's CA, under one ACME contact. All of it is container
    // environment (not cloud-init), so changing it replaces these two containers and never the hosts.
    const acme = {
      acmeDirectory: env.acme.directory,
      acmeSelfCheck: env.acme.selfCheck,
      ...(env.acme.email ? { acmeEmail: env.acme.email } : {}),
    };
    const agent = new MeetAgent(this, 'agent', {
      provider: jitsiDocker,
      image: edgeImage(this, 'edge-image-jitsi', jitsiDocker, imageSource),
      privateIp: cloud.jitsi.privateIp,
      signingSecrets: secrets.agentSigningSecrets,
      sealingPrivateKeys: secrets.agentSealingPrivateKeys,
      certificate: { domains: [env.domains.meet], ...acme },
      logLevel: env.edge.logLevel,
    });
    const authDocker = docker(cloud.meetAuth);
    const authUrl = `${env.edge.tls ? 'https' : 'http'}://${env.domains.auth}`;
    new MeetAuth(this, 'edge', {
      provider: authDocker,
      image: edgeImage(this, 'edge-image-meet-auth', authDocker, imageSource),
      publicUrl: authUrl,
      meetingUrl: meetUrl,
      tls: env.edge.tls,
      certificate: { domains: [env.domains.auth], ...acme },
      logLevel: env.edge.logLevel,
      metricsToken: secrets.metricsToken,
      ...(env.backup
        ? {
            backup: {
              environment: env.name,
              endpoint: env.backup.endpoint,
              region: env.backup.region,
              forcePathStyle: env.backup.forcePathStyle,
              secrets: declareBackupSecrets(this),
            },
          }
        : {}),
      agents: [
        {
          name: cloud.jitsi.name,
          url: `http://${cloud.jitsi.privateIp}:${agent.port}`,
          sealingPublicKey: secrets.agentSealingPublicKey,
          signingSecrets: secrets.agentSigningSecrets,
        },
      ],
    });

    new TerraformOutput(this, 'meet-url', { value: meetUrl, description: 'Jitsi Meet' });
    new TerraformOutput(this, 'auth-url', { value: authUrl, description: 'meet-auth (tickets and accounts)' });
    new TerraformOutput(this, 'jitsi-public-ip', { value: cloud.jitsi.publicIp });
    new TerraformOutput(this, 'meet-auth-public-ip', { value: cloud.meetAuth.publicIp });
  }
}
