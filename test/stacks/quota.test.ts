import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseEnvironment } from '../../stacks/config.js';
import { staging } from '../../stacks/environments/staging.js';
import { flavorSize, quotaLine, quotaNeed } from '../../stacks/quota.js';
import { REPO_ROOT } from '../../stacks/tooling/bindings.js';
import { productionConfig } from './helpers.js';

describe('quota', () => {
  it('production: 2 instances, 9 vCPU, 18 GiB, 2 floating IPs, 2 volumes of 15 GiB; staging more', () => {
    expect(quotaNeed(productionConfig())).toEqual({
      instances: 2,
      vcpus: 9,
      ramGiB: 18,
      floatingIps: 2,
      volumes: 2,
      volumeGiB: 15,
    });
    expect(quotaNeed(parseEnvironment(staging))).toEqual({
      instances: 4,
      vcpus: 13,
      ramGiB: 26,
      floatingIps: 4,
      volumes: 2,
      volumeGiB: 15,
    });
    expect(quotaLine(productionConfig())).toBe(
      "production (project meet) needs 2 instances, 9 vCPU, 18 GiB RAM, 2 floating IPs, 2 volumes (15 GiB); above a new project's quota: vCPU, RAM, floating IPs",
    );
  });

  it('reads sizes from Cloud VPS flavor names and names a flavor it cannot read', () => {
    expect(flavorSize('g4.cores4.ram8.disk20')).toEqual({ vcpus: 4, ramGiB: 8 });
    expect(() => flavorSize('m1.large')).toThrow(
      'flavor "m1.large" does not say its size as Cloud VPS names do (g4.cores<N>.ram<GiB>.disk<GiB>)',
    );
    expect(
      quotaLine(productionConfig((env) => ({ ...env, hosts: { ...env.hosts, meetAuth: { flavor: 'm1.small' } } }))),
    ).toBe(
      'production: cannot tell its quota: flavor "m1.small" does not say its size as Cloud VPS names do (g4.cores<N>.ram<GiB>.disk<GiB>)',
    );
  });

  it("npm run synth prints each environment's need", async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'meet-quota-'));
    try {
      const { stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'stacks/main.ts'], {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: '1' },
      });
      expect(stderr).toContain(
        'quota: production (project meet) needs 2 instances, 9 vCPU, 18 GiB RAM, 2 floating IPs, 2 volumes (15 GiB)',
      );
      expect(stderr).toContain(
        'quota: staging (project meet-staging) needs 4 instances, 13 vCPU, 26 GiB RAM, 4 floating IPs, 2 volumes (15 GiB)',
      );
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
