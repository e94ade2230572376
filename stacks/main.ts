#!/usr/bin/env tsx
/**
 * The CDKTF app: `npm run synth` (offline, no credentials) or `cdktf deploy <env>-cloud <env>-services`.
 * The only file that reads the environment and calls synth. MEET_ENVIRONMENTS (comma list) limits which
 * environments are synthesized; default all of stacks/environments/.
 */
import { App } from 'cdktf';
import { addEnvironment } from './app.js';
import { parseEnvironment } from './config.js';
import { quotaLine } from './quota.js';
import { environments } from './environments/index.js';
import { withPlainStackTraces } from './stack-traces.js';
import { REPO_ROOT } from './tooling/bindings.js';
import { imageSourceHash } from './tooling/source-hash.js';

const wanted = process.env.MEET_ENVIRONMENTS?.split(',')
  .map((name) => name.trim())
  .filter(Boolean);
const known = environments.map((env) => env.name);
const unknown = (wanted ?? []).filter((name) => !known.includes(name));
if (unknown.length > 0) {
  console.error(`MEET_ENVIRONMENTS names unknown environment(s) ${unknown.join(', ')}; known: ${known.join(', ')}`);
  process.exit(2);
}
try {
  const configs = environments.filter((env) => !wanted || wanted.includes(env.name)).map(parseEnvironment);
  const sourceHash = await imageSourceHash(REPO_ROOT);
  withPlainStackTraces(() => {
    const app = new App();
    for (const env of configs) addEnvironment(app, env, { kind: 'build', repoRoot: REPO_ROOT, sourceHash });
    app.synth();
    const stacks = configs.flatMap((env) => [`${env.name}-cloud`, `${env.name}-services`]);
    console.error(`synthesized ${stacks.join(', ')} into ${app.outdir}`);
    for (const env of configs) console.error(`quota: ${quotaLine(env)}`);
  });
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
