/**
 * What an environment needs from its Cloud VPS project's quota, printed by `npm run synth`. A new project gets
 * 8 instances, 8 vCPU, 16 GiB RAM and no floating IP (puppet's nova/neutron quota templates); more is a request on
 * Phabricator ("Cloud-VPS (Quota-requests)"). Cores and RAM come from Cloud VPS's flavor names
 * (g4.cores<N>.ram<GiB>.disk<GiB>).
 */
import type { EnvironmentConfig } from './config.js';

export interface QuotaNeed {
  readonly instances: number;
  readonly vcpus: number;
  readonly ramGiB: number;
  readonly floatingIps: number;
  readonly volumes: number;
  readonly volumeGiB: number;
}

/** A new Cloud VPS project's quota (its Cinder quota is not in those templates: ask for the volumes too). */
const NEW_PROJECT_QUOTA = { instances: 8, vcpus: 8, ramGiB: 16, floatingIps: 0 } as const;
const LABELS: Record<keyof typeof NEW_PROJECT_QUOTA, string> = {
  instances: 'instances',
  vcpus: 'vCPU',
  ramGiB: 'RAM',
  floatingIps: 'floating IPs',
};

const FLAVOR = /(?:^|\.)cores(\d+)\.ram(\d+)(?:\.|$)/;

export function flavorSize(flavor: string): { vcpus: number; ramGiB: number } {
  const match = FLAVOR.exec(flavor);
  if (!match)
    throw new Error(`flavor "${flavor}" does not say its size as Cloud VPS names do (g4.cores<N>.ram<GiB>.disk<GiB>)`);
  return { vcpus: Number(match[1]), ramGiB: Number(match[2]) };
}

export function quotaNeed(env: EnvironmentConfig): QuotaNeed {
  const jvbFlavor = env.hosts.jvb.flavor ?? env.hosts.jitsi.flavor;
  const flavors = [
    env.hosts.jitsi.flavor,
    env.hosts.meetAuth.flavor,
    ...Array.from({ length: env.hosts.jvb.count }, () => jvbFlavor),
  ];
  const sizes = flavors.map(flavorSize);
  return {
    instances: flavors.length,
    vcpus: sizes.reduce((sum, size) => sum + size.vcpus, 0),
    ramGiB: sizes.reduce((sum, size) => sum + size.ramGiB, 0),
    // Every host has its own floating IPv4 (JVB needs 10000/udp on a public address of its own).
    floatingIps: flavors.length,
    volumes: 2,
    volumeGiB: env.hosts.jitsi.stateVolumeGb + env.hosts.meetAuth.stateVolumeGb,
  };
}

/** One line for `npm run synth`, naming what exceeds a new project's quota. */
export function quotaLine(env: EnvironmentConfig): string {
  let need: QuotaNeed;
  try {
    need = quotaNeed(env);
  } catch (error) {
    return `${env.name}: cannot tell its quota: ${error instanceof Error ? error.message : String(error)}`;
  }
  const over = (Object.keys(NEW_PROJECT_QUOTA) as (keyof typeof NEW_PROJECT_QUOTA)[])
    .filter((key) => need[key] > NEW_PROJECT_QUOTA[key])
    .map((key) => LABELS[key]);
  return (
    `${env.name} (project ${env.openstack.project}) needs ${need.instances} instances, ${need.vcpus} vCPU, ${need.ramGiB} GiB RAM, ` +
    `${need.floatingIps} floating IPs, ${need.volumes} volumes (${need.volumeGiB} GiB)` +
    (over.length > 0 ? `; above a new project's quota: ${over.join(', ')}` : '')
  );
}
