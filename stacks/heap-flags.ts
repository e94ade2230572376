/**
 * The production heap flags of the edge image's two services, and the command lines the containers run. The one
 * place they are written: the stacks and `npm run bench` import them, and a test holds edge/Dockerfile's CMD (and
 * the agent line it documents) to them. No imports, so scripts and the stacks may use it without the edge runtime.
 * Why these sizes: docs/decisions/heap-flags.md.
 */
export const HEAP_FLAGS = {
  /** A 1 MiB young generation keeps meet-auth under 120 MB resident through the bench's attacks. */
  meetAuth: ['--max-semi-space-size=1', '--max-old-space-size=96'],
  agent: ['--max-semi-space-size=2', '--max-old-space-size=64'],
} as const satisfies Record<string, readonly string[]>;

/**
 * The image's environment for both services (edge/Dockerfile's ENV, held to this by a test; the bench sets it too).
 * glibc (the image is node:…-bookworm-slim) gives each thread that mallocs its own arena, up to 8 per core
 * (mallopt(3), M_ARENA_MAX, which this variable sets); meet-auth's libuv pool threads (bcrypt, SQLite) then spread
 * native memory over many: two arenas kept it 2-4 MB lower resident under the bench's attacks.
 */
export const RUNTIME_ENV = { MALLOC_ARENA_MAX: '2' } as const satisfies Record<string, string>;

/** The services run compiled (npm run build → dist/) with plain node. */
export const MEET_AUTH_COMMAND = ['node', ...HEAP_FLAGS.meetAuth, 'dist/edge/auth/main.js'] as const;
export const AGENT_COMMAND = ['node', ...HEAP_FLAGS.agent, 'dist/edge/agent/main.js'] as const;
