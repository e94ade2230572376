/**
 * Synth benchmark: in-process synth time of the production app and of one with 50 extra JVB hosts (medians of
 * interleaved runs after a warm-up of each, so a change of machine load hits both alike), what one extra bridge
 * adds, the wall time of `npm run synth`, and whether the bindings were regenerated.
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

const RUNS = 15;
const EXTRA_JVBS = 50;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** One full in-process synth: the same path as stacks/main.ts (validate, build every construct, synthesize, write). */
function synthOnce(input: EnvironmentInput, sourceHash: string): number {
  const outdir = mkdtempSync(join(tmpdir(), 'meet-bench-synth-'));
  try {
    const started = performance.now();
    withPlainStackTraces(() => {
      const app = new App({ outdir });
      addEnvironment(app, parseEnvironment(input), { kind: 'build', repoRoot: REPO_ROOT, sourceHash });
      app.synth();
    });
    return performance.now() - started;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Medians of RUNS runs of each input, taken in turn (run 0 of each warms module caches and is not counted). */
function timeInterleaved(inputs: readonly EnvironmentInput[], sourceHash: string): number[] {
  const times = inputs.map((): number[] => []);
  for (let run = 0; run <= RUNS; run += 1) {
    inputs.forEach((input, index) => {
      const elapsed = synthOnce(input, sourceHash);
      if (run > 0) times[index]!.push(elapsed);
    });
  }
  return times.map(median);
}

export async function run(): Promise<Record<string, number | string | boolean>> {
  const bindings = await ensureBindings();
  const sourceHash = await imageSourceHash(REPO_ROOT);
  const fiftyJvbs: EnvironmentInput = {
    ...production,
    hosts: { ...production.hosts, jvb: { count: EXTRA_JVBS, flavor: 'g4.cores8.ram16.disk20' } },
  };
  const [oneHost, fifty] = timeInterleaved([production, fiftyJvbs], sourceHash) as [number, number];

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
    synth_per_extra_jvb_ms: Math.round(((fifty - oneHost) / EXTRA_JVBS) * 1000) / 1000,
    npm_run_synth_wall_ms: round(wall),
    bindings_regenerated: bindings.generated,
    runs_per_figure: RUNS,
  };
}
