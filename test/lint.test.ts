// The boundary rules in eslint.config.js actually fire: each forbidden import, linted at a path inside the tree it
// guards, is reported by its rule, and an allowed import beside it is not (a rule that cannot fail proves nothing).
import { ESLint } from 'eslint';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { OWN_MODULE_GRAPH } from './support/test-projects.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const configFile = join(root, 'eslint.config.js');
const eslint = new ESLint({ cwd: root, overrideConfigFile: configFile });

/** The rule ids and messages ESLint reports for `code` as if it were the file at `path` (relative to the root). */
async function problems(path: string, code: string) {
  const [result] = await eslint.lintText(code, { filePath: join(root, path) });
  return result!.messages.map(({ ruleId, message }) => ({ ruleId, message }));
}

const restricted = (message: RegExp) => [{ ruleId: 'no-restricted-imports', message: expect.stringMatching(message) }];

describe('boundary rules', () => {
  it.each([
    [
      'edge/auth/x.ts',
      "import { createApp } from '../agent/app.js';\nvoid createApp;\n",
      /meet-auth never imports the agent/,
    ],
    [
      'edge/auth/routes/x.ts',
      "import type { AgentConfig } from '../../agent/config.js';\nexport type X = AgentConfig;\n",
      /meet-auth never imports the agent/,
    ],
    [
      'edge/agent/x.ts',
      "import { createApp } from '../auth/app.js';\nvoid createApp;\n",
      /agent never imports meet-auth/,
    ],
    ['edge/shared/x.ts', "import { App } from 'cdktf';\nvoid App;\n", /no CDKTF toolchain/],
    ['edge/auth/x.ts', "import { Construct } from 'constructs';\nvoid Construct;\n", /no CDKTF toolchain/],
    ['stacks/x.ts', "import { createApp } from '../edge/auth/app.js';\nvoid createApp;\n", /never edge runtime code/],
    [
      'scripts/x.mts',
      "import { freePort } from '../test/support/ports.js';\nvoid freePort;\n",
      /Only tests import test code/,
    ],
    [
      'scripts/bench/x.mts',
      "import { freePort } from '../../test/support/ports.js';\nvoid freePort;\n",
      /Only tests import test code/,
    ],
    [
      'edge/agent/x.ts',
      "import { freePort } from '../../test/support/ports.js';\nvoid freePort;\n",
      /Only tests import test code/,
    ],
    ['common/x.ts', "import { createApp } from '../edge/auth/app.js';\nvoid createApp;\n", /common\/ is shared/],
    ['edge/shared/x.ts', "import { createApp } from '../auth/app.js';\nvoid createApp;\n", /serve both services/],
    ['edge/i18n/x.ts', "export { createApp } from '../agent/app.js';\n", /serve both services/],
    [
      'edge/agent/x.ts',
      "import { DockerProvider } from '../../.gen/providers/docker/provider/index.js';\nvoid DockerProvider;\n",
      /no CDKTF toolchain/,
    ],
    [
      'edge/auth/x.ts',
      "import { loadConfig } from '../../stacks/config.js';\nvoid loadConfig;\n",
      /no CDKTF toolchain/,
    ],
    ['common/x.ts', "import { App } from 'cdktf';\nvoid App;\n", /common\/ is shared/],
  ])('%s: the forbidden import is reported', async (path, code, message) => {
    expect(await problems(path, code)).toEqual(restricted(message));
  });

  it.each([
    ['edge/auth/x.ts', '../agent/app.js', /meet-auth never imports the agent/],
    ['edge/agent/routes/x.ts', '../../auth/app.js', /agent never imports meet-auth/],
    ['edge/shared/x.ts', 'cdktf', /no CDKTF toolchain/],
    ['stacks/x.ts', '../edge/auth/app.js', /never edge runtime code/],
    ['scripts/bench/x.mts', '../../test/support/ports.js', /Only tests import test code/],
  ])('%s: a dynamic import of %s is reported', async (path, target, message) => {
    expect(await problems(path, `export const load = () => import('${target}');\n`)).toEqual([
      { ruleId: 'no-restricted-syntax', message: expect.stringMatching(message) },
    ]);
  });

  it.each([
    ['edge/auth/x.ts', "import { signRequest } from '../shared/signing.js';\nvoid signRequest;\n"],
    ['edge/agent/x.ts', "import { LANGUAGES } from '../i18n/index.js';\nvoid LANGUAGES;\n"],
    ['stacks/x.ts', "import { App } from 'cdktf';\nvoid App;\n"],
    ['scripts/x.mts', "import { parseArgs } from 'node:util';\nvoid parseArgs;\n"],
    ['scripts/x.mts', "export const load = () => import('./lib/local-keys.js');\n"],
    ['edge/auth/x.ts', "export const load = () => import('cdktf-like-name-but-not-cdktf');\n"],
    [
      'test/x.test.ts',
      "import { freePort } from './support/ports.js';\nimport { createApp } from '../edge/auth/app.js';\nvoid freePort;\nvoid createApp;\n",
    ],
  ])('%s: an allowed import is not reported', async (path, code) => {
    expect(await problems(path, code)).toEqual([]);
  });
});

describe('import cycles', () => {
  // no-cycle follows imports on disk, so the two modules are real files (in a scratch tree with its own tsconfig).
  const scratch = mkdtempSync(join(tmpdir(), 'meet-lint-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(scratch, path)), { recursive: true });
    writeFileSync(join(scratch, path), text);
  };
  write(
    'tsconfig.json',
    JSON.stringify({ compilerOptions: { module: 'ESNext', moduleResolution: 'Bundler' }, include: ['**/*'] }),
  );
  write('edge/shared/a.ts', "import { b } from './b.js';\nexport const a = (): number => b() + 1;\n");
  write('edge/shared/b.ts', "import { a } from './a.js';\nexport const b = (): number => (a.length > 0 ? 1 : 0);\n");
  write('edge/shared/c.ts', "import { d } from './d.js';\nexport const c = (): number => d + 1;\n");
  write('edge/shared/d.ts', 'export const d = 1;\n');

  it('a two-module cycle is reported in both modules, and a one-way import is not', async () => {
    const scratchLint = new ESLint({ cwd: scratch, overrideConfigFile: configFile });
    const results = await scratchLint.lintFiles(['edge/shared/*.ts']);
    const rules = Object.fromEntries(
      results.map((r) => [r.filePath.slice(scratch.length + 1), r.messages.map((m) => `${m.ruleId}: ${m.message}`)]),
    );
    expect(rules).toEqual({
      'edge/shared/a.ts': [expect.stringMatching(/^import-x\/no-cycle: Dependency cycle detected/)],
      'edge/shared/b.ts': [expect.stringMatching(/^import-x\/no-cycle: Dependency cycle detected/)],
      'edge/shared/c.ts': [],
      'edge/shared/d.ts': [],
    });
  });
});

describe('file length', () => {
  const LIMIT = 400;
  const SKIPPED = new Set(['node_modules', '.gen', 'cdktf.out', '.git', 'dist', 'bench-results', '.meet']);
  const sources = (dir: string): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
      const path = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) return SKIPPED.has(entry.name) ? [] : sources(path);
      return /\.(ts|mts|js)$/.test(entry.name) ? [path] : [];
    });
  const lineCount = (path: string) => readFileSync(join(root, path), 'utf8').split('\n').length - 1;

  it(`no .ts/.mts/.js file is over ${LIMIT} lines (one job per file)`, () => {
    const files = sources('');
    expect(files).toContain('test/lint.test.ts');
    const long = files.filter((path) => lineCount(path) > LIMIT);
    expect(long.map((path) => `${path}: ${lineCount(path)} lines`)).toEqual([]);
  });
});

describe('unit projects', () => {
  it('every unit test file that mocks modules runs with a module graph of its own (unit-isolated)', () => {
    const unitTests = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', 'test'], {
      cwd: root,
      encoding: 'utf8',
    })
      .split('\n')
      .filter((path) => path.endsWith('.test.ts') && !path.endsWith('.int.test.ts') && existsSync(join(root, path)));
    expect(unitTests).toContain('test/lint.test.ts');
    const mocking = unitTests.filter((path) =>
      /\bvi\.(mock|doMock|unmock|doUnmock)\(/.test(readFileSync(join(root, path), 'utf8')),
    );
    expect(mocking).toEqual([...OWN_MODULE_GRAPH].sort());
  });
});
