/** Shared helpers for the stacks tests: synth a scope to JSON and pick resources out of it. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Testing, TerraformStack, type App } from 'cdktf';
import { expect } from 'vitest';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider/index.js';
import { OpenstackProvider } from '../../.gen/providers/openstack/provider/index.js';
import {
  EnvironmentConfigError,
  parseEnvironment,
  type EnvironmentConfig,
  type EnvironmentInput,
} from '../../stacks/config.js';
import { production } from '../../stacks/environments/production.js';
import { Jitsi, type JitsiProps } from '../../stacks/jitsi.js';
import { ReplacedContainer, type ReplacedContainerProps } from '../../stacks/replaced-container.js';
import type { ProviderSchemas } from '../support/schema/schema-check.js';
import { REPO_ROOT } from '../../stacks/tooling/bindings.js';

export type TfJson = {
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  data?: Record<string, Record<string, Record<string, unknown>>>;
  provider?: Record<string, Array<Record<string, unknown>>>;
  variable?: Record<string, Record<string, unknown>>;
  output?: Record<string, Record<string, unknown>>;
  terraform?: Record<string, unknown>;
};

export function synthJson(stack: TerraformStack): TfJson {
  return JSON.parse(Testing.synth(stack)) as TfJson;
}

/** A stack with an OpenStack provider, for constructs of the cloud stack. */
export function openstackStack(app: App = Testing.app()): TerraformStack {
  const stack = new TerraformStack(app, 'test');
  new OpenstackProvider(stack, 'openstack', {});
  return stack;
}

/** A stack with one docker provider, for constructs of the services stack. */
export function dockerStack(): { stack: TerraformStack; provider: DockerProvider } {
  const stack = new TerraformStack(Testing.app(), 'test');
  const provider = new DockerProvider(stack, 'docker', { host: 'ssh://debian@10.0.0.1' });
  return { stack, provider };
}

/** One ReplacedContainer (name "app", a pinned image, one env entry unless given) on its own, as JSON. */
export function synthReplacedContainer(props: Partial<ReplacedContainerProps> = {}): TfJson {
  const { stack, provider } = dockerStack();
  new ReplacedContainer(stack, 'c', {
    provider,
    name: 'app',
    image: 'sha256:abc',
    imageName: 'example.org/app:1.2.3',
    env: ['A=1'],
    ...props,
  });
  return synthJson(stack);
}

/** The Jitsi host's containers on their own (one docker provider), with test addresses and secrets, as JSON. */
export function synthJitsi(props: Partial<JitsiProps> = {}): TfJson {
  const { stack, provider } = dockerStack();
  new Jitsi(stack, 'jitsi', {
    provider,
    imageTag: 'stable-11146-2',
    publicUrl: 'https://meet.example.org',
    advertiseIp: '185.15.56.10',
    privateIp: '172.16.1.2',
    jicofoAuthPassword: 'jicofo-secret',
    jvbAuthPassword: 'jvb-secret',
    ...props,
  });
  return synthJson(stack);
}

export function resourcesOf(json: TfJson, type: string): Array<Record<string, unknown>> {
  return Object.values(json.resource?.[type] ?? {});
}

/** The container whose `name` attribute is `name`. */
export function container(json: TfJson, name: string): Record<string, unknown> & { env: string[] } {
  const found = resourcesOf(json, 'docker_container').find((item) => item.name === name);
  if (!found) throw new Error(`no container named ${name}`);
  return found as Record<string, unknown> & { env: string[] };
}

/** The terraform_data that replaces `containerName` when it changes (followed through replace_triggered_by). */
export function triggerInput(json: TfJson, containerName: string): string {
  const lifecycle = container(json, containerName).lifecycle as { replace_triggered_by: string[] };
  const address = lifecycle.replace_triggered_by[0]!;
  const [, name] = address.split('.');
  const data = json.resource?.terraform_data?.[name!] as { input: { sha256: string } };
  return data.input.sha256;
}

export function productionConfig(
  overrides: (input: EnvironmentInput) => EnvironmentInput = (input) => input,
): EnvironmentConfig {
  return parseEnvironment(overrides(structuredClone(production)));
}

export function openstackSchema(): ProviderSchemas {
  return JSON.parse(readFileSync(join(REPO_ROOT, 'stacks/providers/openstack.schema.json'), 'utf8')) as ProviderSchemas;
}

/** The smallest environment the schema accepts: each test adds or breaks what it is about. */
export const minimal: EnvironmentInput = {
  name: 'mini',
  openstack: { authUrl: 'https://keystone.example.org:5000/v3', region: 'r1', project: 'p' },
  network: { name: 'lan', floatingIpPool: 'wan' },
  adminCidrs: ['172.16.0.0/21'],
  ssh: { bastion: 'bastion.example.org' },
  domains: { meet: 'meet.example.org', auth: 'auth.meet.example.org' },
  dns: { zones: ['meet.example.org.'] },
  hosts: { jitsi: { flavor: 'large' }, meetAuth: { flavor: 'small' } },
};

/** The problems parseEnvironment reports for `input` (fails the test when it accepts it). */
export function problemsOf(input: unknown): readonly string[] {
  try {
    parseEnvironment(input);
  } catch (error) {
    if (error instanceof EnvironmentConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the environment to be rejected');
}

/** A host's files as the user data's bootstrap writes them (its quoted here-documents), in order. */
export function userDataFiles(userData: string): Array<{ path: string; permissions: string; content: string }> {
  expect(userData.startsWith('#cloud-config\n')).toBe(true);
  const config = JSON.parse(userData.slice('#cloud-config\n'.length)) as { bootcmd: string[][] };
  const script = config.bootcmd[0]!.at(-1)!;
  const files = [...script.matchAll(/^cat > '([^']+)' <<'(MEET_EOF[_0-9]*)'\n([\s\S]*?)^\2\nchmod (\d{4}) '\1'$/gm)];
  return files.map(([, path, , content, permissions]) => ({
    path: path!,
    permissions: permissions!,
    content: content!,
  }));
}

/** The options hostCloudInit takes in tests: the deploy group, and a volume id for the stateful hosts. */
export const TEST_VOLUME_ID = '7d3f0a52-91c4-4e0b-8f2a-3c5e9b1d6a70';
export const cloudInitOptions = (role: 'jitsi' | 'meet-auth' | 'jvb') =>
  role === 'jvb'
    ? { dockerGroupSource: 'project-meet' }
    : { dockerGroupSource: 'project-meet', stateVolumeId: TEST_VOLUME_ID };

/** A host's files as its host-files declarations (stacks/host-files.ts renderHostFiles) carry them, in order. */
export function hostFilesOf(declarations: string): Array<{ path: string; permissions: string; content: string }> {
  const files = [...declarations.matchAll(/^meet_file '([^']+)' (\d{4}) <<'(MEET_EOF[_0-9]*)'\n([\s\S]*?)^\3$/gm)];
  return files.map(([, path, permissions, , content]) => ({
    path: path!,
    permissions: permissions!,
    content: content!,
  }));
}

/** The host-files step of host `host` in a synthesized cloud stack: its triggers and its files (Terraform's escapes undone). */
export function hostFilesStep(
  cloud: TfJson,
  host: string,
): { triggers: string[]; declarations: string; files: Record<string, string> } {
  const step = cloud.resource?.terraform_data?.[`${host}-host-files`] as
    | { triggers_replace: string[]; provisioner: Array<{ 'local-exec': { environment: Record<string, string> } }> }
    | undefined;
  if (!step) throw new Error(`no host-files step for ${host}`);
  const declarations = step.provisioner[0]!['local-exec'].environment.MEET_HOST_FILES!.replaceAll(
    '$${',
    '${',
  ).replaceAll('%%{', '%{');
  return {
    triggers: step.triggers_replace,
    declarations,
    files: Object.fromEntries(hostFilesOf(declarations).map((file) => [file.path, file.content])),
  };
}
