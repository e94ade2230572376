/**
 * Synth benchmark: in-process synth time of the production app and of one with 50 extra JVB hosts (median of
 * several runs after a warm-up), the wall time of `npm run synth`, and whether the bindings were regenerated.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App } from 'cdktf';
import { addEnvironment } from '../../stacks/app.js';
import { parseEnvironment, type EnvironmentInput } from '../../stacks/config.js';
import { production } from '../../stacks/environments/production.js';
import { withPlainStackTraces } from '../../stacks/stack-traces.js';
import { ensureBindings, REPO_ROOT } from '../../stacks/tooling/bindings.js';
import { imageSourceHash } from '../../stacks/tooling/source-hash.js';

const RUNS = 7;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function timeSynth(input: EnvironmentInput, sourceHash: string): Promise<number> {
  const times: number[] = [];
  for (let run = 0; run <= RUNS; run += 1) {
    const outdir = mkdtempSync(join(tmpdir(), 'meet-bench-synth-'));
    try {
      const started = performance.now();
      // The same path as stacks/main.ts: validate, build every construct, synthesize, write the files.
      withPlainStackTraces(() => {
        const app = new App({ outdir });
        addEnvironment(app, parseEnvironment(input), { kind: 'build', repoRoot: REPO_ROOT, sourceHash });
        app.synth();
      });
      if (run > 0) times.push(performance.now() - started); // run 0 warms module caches
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }
  return median(times);
}

export async function run(): Promise<Record<string, number | string | boolean>> {
  const bindings = await ensureBindings();
  const sourceHash = await imageSourceHash(REPO_ROOT);
  const oneHost = await timeSynth(production, sourceHash);
  const fiftyJvbs: EnvironmentInput = {
    ...production,
    hosts: { ...production.hosts, jvb: { count: 50, flavor: 'g4.cores8.ram16.disk20' } },
  };
  const fifty = await timeSynth(fiftyJvbs, sourceHash);

  const outdir = mkdtempSync(join(tmpdir(), 'meet-bench-npm-synth-'));
  let wall: number;
  try {
    const started = performance.now();
    await promisify(execFile)('npm', ['run', '--silent', 'synth'], {
      cwd: REPO_ROOT,
      env: { ...process.env, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: '1' },
    });
    wall = performance.now() - started;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    synth_production_in_process_ms: round(oneHost),
    synth_50_jvb_hosts_in_process_ms: round(fifty),
    synth_50_jvb_ratio: Math.round((fifty / oneHost) * 100) / 100,
    npm_run_synth_wall_ms: round(wall),
    bindings_regenerated: bindings.generated,
    runs_per_figure: RUNS,
  };
}
