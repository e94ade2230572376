/**
 * Builds and synthesizes with source-mapped stack formatting off: cdktf captures a stack trace per token, and
 * formatting them through source maps was most of the synth time (docs/decisions/synth-stack-traces.md).
 * Construct errors still show source-mapped positions: their `.stack` is read after the restore.
 */
export function withPlainStackTraces<T>(build: () => T): T {
  const enabled = process.sourceMapsEnabled;
  if (!enabled) return build();
  process.setSourceMapsEnabled(false);
  try {
    return build();
  } finally {
    process.setSourceMapsEnabled(true);
  }
}
