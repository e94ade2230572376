/**
 * The unit tests share one module graph per worker (vitest `isolate: false`): loading cdktf, the provider bindings
 * and Hono once per worker rather than once per file halves the unit run. A file that mocks modules (vi.mock)
 * needs a graph of its own, so it runs in the `unit-isolated` project instead; test/lint.test.ts keeps this list
 * complete.
 */
export const OWN_MODULE_GRAPH: readonly string[] = ['test/stacks/state.test.ts'];
