/**
 * Keeps `.gen/` (the generated OpenStack provider bindings) in step with the committed provider schema.
 * Generation is offline and never calls terraform; it reruns only when the schema, the constraint or the
 * generator version changes (a hash stamp in `.gen/`). `.gen/` is build output and never committed.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const OPENSTACK_CONSTRAINT = 'terraform-provider-openstack/openstack@~> 3.4';
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const STAMP_FILE = 'schema.sha256';
const RUNNER = join(dirname(fileURLToPath(import.meta.url)), 'run-generator.cjs');

export interface BindingsOptions {
  /** Repository root. @default the checkout this file lives in */
  readonly root?: string;
  /** Provider schema. @default `<root>/stacks/providers/openstack.schema.json` */
  readonly schemaPath?: string;
  /** Output directory. @default `<root>/.gen` */
  readonly outdir?: string;
  /** Regenerate even when the stamp matches. @default false */
  readonly force?: boolean;
}

export interface BindingsResult {
  readonly generated: boolean;
  readonly stamp: string;
  readonly outdir: string;
}

function generatorVersion(root: string): string {
  const require = createRequire(join(root, 'package.json'));
  const pkg = JSON.parse(readFileSync(require.resolve('@cdktf/provider-generator/package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** The stamp that identifies one generation: schema bytes, constraint and generator version. */
export function bindingsStamp(schemaText: string, constraint: string, generator: string): string {
  return createHash('sha256').update(`${generator}\n${constraint}\n`).update(schemaText).digest('hex');
}

export async function readStamp(outdir: string): Promise<string | undefined> {
  try {
    return (await readFile(join(outdir, STAMP_FILE), 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/** Generates `.gen/` when it is missing or stale; otherwise does nothing. */
export async function ensureBindings(options: BindingsOptions = {}): Promise<BindingsResult> {
  const root = options.root ?? REPO_ROOT;
  const schemaPath = options.schemaPath ?? join(root, 'stacks/providers/openstack.schema.json');
  const outdir = options.outdir ?? join(root, '.gen');
  const schemaText = await readFile(schemaPath, 'utf8');
  const schema = JSON.parse(schemaText) as { provider_schemas?: Record<string, unknown> };
  if (!schema.provider_schemas || Object.keys(schema.provider_schemas).length !== 1) {
    throw new Error(`${schemaPath} is not a \`terraform providers schema -json\` document for exactly one provider`);
  }
  const stamp = bindingsStamp(schemaText, OPENSTACK_CONSTRAINT, generatorVersion(root));
  if (!options.force && (await readStamp(outdir)) === stamp) return { generated: false, stamp, outdir };

  // Generate beside the target and swap it in, so a concurrent reader never sees a half-written tree.
  const staging = `${outdir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await promisify(execFile)(process.execPath, [RUNNER, schemaPath, staging, OPENSTACK_CONSTRAINT], {
      cwd: root,
      // `false` answers the `terraform version` probe that loading @cdktf/commons fires, so terraform never runs.
      env: { ...process.env, CHECKPOINT_DISABLE: '1', TERRAFORM_BINARY_NAME: 'false', DISABLE_VERSION_CHECK: '1' },
      maxBuffer: 16 * 1024 * 1024,
    });
    await writeFile(join(staging, STAMP_FILE), `${stamp}\n`);
    await rm(outdir, { recursive: true, force: true });
    try {
      await rename(staging, outdir);
    } catch (error) {
      // Another process swapped in the same generation first: keep theirs.
      if ((await readStamp(outdir)) !== stamp) throw error;
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  // Stale incremental type information would hide the new bindings from `tsc`.
  await rm(join(root, 'tsconfig.tsbuildinfo'), { force: true });
  return { generated: true, stamp, outdir };
}
