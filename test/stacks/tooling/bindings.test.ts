import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bindingsStamp,
  ensureBindings,
  OPENSTACK_CONSTRAINT,
  readStamp,
  REPO_ROOT,
} from '../../../stacks/tooling/bindings.js';

const work = mkdtempSync(join(tmpdir(), 'meet-bindings-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('OpenStack bindings generation', () => {
  it('.gen/ is present and stamped with the committed schema (global setup ran it)', async () => {
    const stamp = await readStamp(join(REPO_ROOT, '.gen'));
    expect(stamp).toMatch(/^[a-f0-9]{64}$/);
    expect((await ensureBindings()).generated).toBe(false);
    expect(existsSync(join(REPO_ROOT, '.gen/providers/openstack/compute-instance-v2/index.ts'))).toBe(true);
  });

  it('regenerates only when the schema changes, offline, without ever running terraform', async () => {
    // A terraform on PATH that records any call: generation must not make one.
    const bin = join(work, 'bin');
    mkdirSync(bin);
    const log = join(work, 'terraform-calls.log');
    writeFileSync(join(bin, 'terraform'), `#!/bin/sh\necho "$@" >> ${log}\nexit 1\n`);
    chmodSync(join(bin, 'terraform'), 0o755);
    const schemaPath = join(work, 'schema.json');
    const schema = JSON.parse(readFileSync(join(REPO_ROOT, 'stacks/providers/openstack.schema.json'), 'utf8'));
    writeFileSync(schemaPath, JSON.stringify(schema));
    const outdir = join(work, 'gen');
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      const first = await ensureBindings({ schemaPath, outdir, root: REPO_ROOT });
      expect(first.generated).toBe(true);
      expect(
        readFileSync(join(outdir, 'providers/openstack/networking-floatingip-associate-v2/index.ts'), 'utf8'),
      ).toContain('class NetworkingFloatingipAssociateV2');
      expect((await ensureBindings({ schemaPath, outdir, root: REPO_ROOT })).generated).toBe(false);

      // Drop one resource type from the schema: the stamp changes and the bindings follow.
      delete schema.provider_schemas['registry.terraform.io/terraform-provider-openstack/openstack'].resource_schemas
        .openstack_dns_zone_v2;
      writeFileSync(schemaPath, JSON.stringify(schema));
      const second = await ensureBindings({ schemaPath, outdir, root: REPO_ROOT });
      expect(second.generated).toBe(true);
      expect(second.stamp).not.toBe(first.stamp);
      expect(existsSync(join(outdir, 'providers/openstack/dns-zone-v2'))).toBe(false);
    } finally {
      process.env.PATH = path;
    }
    expect(existsSync(log)).toBe(false);
  });

  it('refuses a file that is not a provider schema, naming it', async () => {
    const bad = join(work, 'bad.json');
    writeFileSync(bad, '{"format_version":"1.0"}');
    await expect(ensureBindings({ schemaPath: bad, outdir: join(work, 'bad-gen') })).rejects.toThrow(
      `${bad} is not a \`terraform providers schema -json\` document for exactly one provider`,
    );
  });

  it('the stamp covers schema, constraint and generator version', () => {
    const base = bindingsStamp('{}', OPENSTACK_CONSTRAINT, '0.21.0');
    expect(bindingsStamp('{ }', OPENSTACK_CONSTRAINT, '0.21.0')).not.toBe(base);
    expect(bindingsStamp('{}', 'x@~> 4', '0.21.0')).not.toBe(base);
    expect(bindingsStamp('{}', OPENSTACK_CONSTRAINT, '0.22.0')).not.toBe(base);
  });
});
