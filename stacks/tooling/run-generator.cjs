// Runs the official cdktf binding generator (the code behind `cdktf get`) for the OpenStack provider, offline:
// the provider schema comes from a schema cache seeded with our committed schema, so terraform is never asked
// for it. Started by bindings.ts in a child process because merely loading @cdktf/commons runs
// `$TERRAFORM_BINARY_NAME version -json`; the parent points that variable at a no-op.
// usage: node run-generator.cjs <schema.json> <outdir> <constraint>
'use strict';
const { cpSync, mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { ConstructsMaker, TerraformProviderConstraint } = require('@cdktf/provider-generator');

async function main() {
  const [schemaPath, outdir, constraintText] = process.argv.slice(2);
  if (!schemaPath || !outdir || !constraintText)
    throw new Error('usage: run-generator.cjs <schema.json> <outdir> <constraint>');
  // cdktf get re-wraps the parsed cdktf.json entry, which keys the cache by the short name ("openstack"); do the same.
  const constraint = new TerraformProviderConstraint(new TerraformProviderConstraint(constraintText));
  const cacheDir = mkdtempSync(join(tmpdir(), 'meet-schema-cache-'));
  try {
    const cacheKey = `${encodeURIComponent(constraint.fqn)}@${encodeURIComponent(constraint.version ?? '')}`;
    cpSync(schemaPath, join(cacheDir, `${cacheKey}.json`));
    const maker = new ConstructsMaker({ targetLanguage: 'typescript', codeMakerOutput: outdir }, cacheDir);
    await maker.generate([constraint], [constraint]);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`binding generation failed: ${error && error.message ? error.message : error}`);
  process.exit(1);
});
