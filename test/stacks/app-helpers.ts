/** Synthesizes whole environments into a temporary outdir and reads the stacks back. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'cdktf';
import { addEnvironment } from '../../stacks/app.js';
import { parseEnvironment, type EnvironmentConfig } from '../../stacks/config.js';
import { staging } from '../../stacks/environments/staging.js';
import { REPO_ROOT } from '../../stacks/tooling/bindings.js';
import { productionConfig, type TfJson } from './helpers.js';

const SOURCE_HASH = '0123456789abcdef'.repeat(4);

export function synthTo(outdir: string, envs: readonly EnvironmentConfig[]): void {
  const app = new App({ outdir });
  for (const env of envs) addEnvironment(app, env, { kind: 'build', repoRoot: REPO_ROOT, sourceHash: SOURCE_HASH });
  app.synth();
}

/** Every stack of the given environments, synthesized fresh. */
export function synthStacks(envs: readonly EnvironmentConfig[]): Record<string, TfJson> {
  const outdir = mkdtempSync(join(tmpdir(), 'meet-synth-'));
  try {
    synthTo(outdir, envs);
    return readStacks(outdir);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

const shared = new Map<'production' | 'staging', Record<string, TfJson>>();

/**
 * The stacks of production (productionConfig()) or of the staging example, synthesized once per module graph (the
 * unit tests share one per worker) and frozen: read them; a test that needs a variant synthesizes its own.
 */
export function sharedStacks(environment: 'production' | 'staging'): Record<string, TfJson> {
  let stacks = shared.get(environment);
  if (!stacks) {
    stacks = deepFreeze(synthStacks([environment === 'production' ? productionConfig() : parseEnvironment(staging)]));
    shared.set(environment, stacks);
  }
  return stacks;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

export function readStacks(outdir: string): Record<string, TfJson> {
  const dir = join(outdir, 'stacks');
  return Object.fromEntries(
    readdirSync(dir).map((name) => [name, JSON.parse(readFileSync(join(dir, name, 'cdk.tf.json'), 'utf8')) as TfJson]),
  );
}

/** Temporary directories for one test file: `make()` makes one, `removeAll` (for afterAll) removes them all. */
export function tempDirs(prefix: string): { make(): string; removeAll(): void } {
  const dirs: string[] = [];
  return {
    make() {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(dir);
      return dir;
    },
    removeAll: () => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })),
  };
}

/** Every file under a directory with its bytes, for byte-for-byte comparisons. */
export function readTree(dir: string, prefix = ''): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const path = join(prefix, entry.name);
    if (entry.isDirectory()) for (const [key, value] of readTree(dir, path)) files.set(key, value);
    else files.set(path, readFileSync(join(dir, path)));
  }
  return files;
}

export interface StackAddresses {
  readonly resources: string[];
  readonly data: string[];
  readonly outputs: string[];
  readonly variables: string[];
}

/** Terraform's own address syntax: `type.name`, `data.type.name`, `output.name`, `var.name`; sorted. */
export function addressesOf(stack: TfJson): StackAddresses {
  const blocks = (group: Record<string, Record<string, unknown>> | undefined, prefix: string) =>
    Object.entries(group ?? {})
      .flatMap(([type, byName]) => Object.keys(byName).map((name) => `${prefix}${type}.${name}`))
      .sort();
  return {
    resources: blocks(stack.resource, ''),
    data: blocks(stack.data, 'data.'),
    outputs: Object.keys(stack.output ?? {})
      .map((name) => `output.${name}`)
      .sort(),
    variables: Object.keys(stack.variable ?? {})
      .map((name) => `var.${name}`)
      .sort(),
  };
}
