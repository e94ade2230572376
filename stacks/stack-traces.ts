/**
 * cdktf captures a full stack trace for every token it creates (Intrinsic, Lazy, ComplexList … constructors,
 * through `Error.captureStackTrace` with no depth limit) and reads it at once. Under tsx, Node formats each one
 * through source maps, which made up most of the synth time (≈1.1 s of 1.45 s in one profile). Source-mapped
 * formatting is switched off while the app is built and synthesized, and restored after: the captured token
 * stacks keep their file and function names (positions are of the transpiled code), and an error thrown by a
 * construct is formatted when its `.stack` is first read, i.e. after the restore, with source-mapped positions.
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
