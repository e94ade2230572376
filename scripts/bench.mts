#!/usr/bin/env tsx
/**
 * `npm run bench`: runs every benchmark part, prints its figures and writes them all as JSON to
 * `bench-results/bench.json` (or the path in MEET_BENCH_OUT). `npm run bench -- synth edge` runs only those parts.
 * Each part is a module under scripts/bench/ exporting `run(): Promise<BenchFigures>`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { EXIT, parseCliArgs, UsageError } from '../edge/shared/cli.js';
import { parts, type BenchFigures } from './bench/parts.mts';

const USAGE = `usage: npm run bench [-- <part>...]\nparts: ${Object.keys(parts).join(', ')}\nwrites JSON to MEET_BENCH_OUT (default bench-results/bench.json)`;
let args;
try {
  args = parseCliArgs(process.argv.slice(2), { help: { type: 'boolean' } });
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`bench: ${error.message}\n\n${USAGE}`);
  process.exit(EXIT.usage);
}
const wanted = args.positionals;
if (args.values.help) {
  console.log(USAGE);
  process.exit(EXIT.done);
}
const unknown = wanted.filter((name) => !(name in parts));
if (unknown.length > 0) {
  console.error(`unknown benchmark part(s): ${unknown.join(', ')}; known: ${Object.keys(parts).join(', ')}`);
  process.exit(EXIT.usage);
}

const results: Record<string, BenchFigures> = {};
let failed = false;
for (const [name, load] of Object.entries(parts)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  console.error(`== bench ${name}`);
  try {
    const part = await load();
    const figures = await part.run();
    results[name] = figures;
    for (const [key, value] of Object.entries(figures)) console.log(`${name}.${key} = ${value}`);
  } catch (error) {
    failed = true;
    console.error(`bench ${name} failed:`, error);
  }
}
const out = resolve(process.env.MEET_BENCH_OUT ?? 'bench-results/bench.json');
await mkdir(dirname(out), { recursive: true });
await writeFile(out, JSON.stringify({ at: new Date().toISOString(), node: process.version, results }, null, 2) + '\n');
console.error(`wrote ${out}`);
process.exit(failed ? EXIT.failed : EXIT.done);
