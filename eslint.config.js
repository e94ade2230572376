// Lint rules that keep the boundaries of docs/architecture.md: auth and agent never import each other
// (nor does edge/shared or edge/i18n import either), edge never
// imports the CDKTF toolchain, stacks never import edge's runtime, nothing outside test/ imports test code, and no
// import cycle anywhere.
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

// Each boundary is a group of import patterns (static imports and export-from, checked by no-restricted-imports)
// and the same boundary as a regular expression for dynamic import(), which no-restricted-imports does not see.
const restrict = (boundaries) => ({
  'no-restricted-imports': ['error', { patterns: boundaries.map(({ group, message }) => ({ group, message })) }],
  'no-restricted-syntax': [
    'error',
    ...boundaries.map(({ dynamic, message }) => ({ selector: `ImportExpression[source.value=/${dynamic}/]`, message })),
  ],
});
// Path separators in `dynamic` are written \u002F: a selector's regular expression cannot hold a literal slash.
const cdktf = ['cdktf', 'cdktf/*', 'constructs', 'constructs/*', '@cdktf/*', '**/.gen/**'];
const cdktfDynamic = '^(cdktf|constructs)(\\u002F|$)|^@cdktf\\u002F|(^|\\u002F)\\.gen\\u002F';
const toolchain = {
  group: [...cdktf, '**/stacks/**'],
  dynamic: `${cdktfDynamic}|(^|\\u002F)stacks\\u002F`,
  message: 'edge/ is runtime code: no CDKTF toolchain (cdktf, constructs, .gen/ bindings, stacks/).',
};
const testCode = {
  group: ['**/test/**', '../test/*', '../../test/*'],
  dynamic: '(^|\\u002F)test\\u002F',
  message: 'Only tests import test code.',
};
const noAgent = {
  group: ['**/agent/**', '../agent/*'],
  dynamic: '(^|\\u002F)agent\\u002F',
  message: 'meet-auth never imports the agent.',
};
const noAuth = {
  group: ['**/auth/**', '../auth/*'],
  dynamic: '(^|\\u002F)auth\\u002F',
  message: 'The agent never imports meet-auth.',
};
const noService = {
  group: ['**/auth/**', '../auth/*', '**/agent/**', '../agent/*'],
  dynamic: '(^|\\u002F)(auth|agent)\\u002F',
  message: 'edge/shared and edge/i18n serve both services: they import neither.',
};
const noEdge = {
  group: ['**/edge/**'],
  dynamic: '(^|\\u002F)edge\\u002F',
  message: 'stacks/ only reference the image, never edge runtime code.',
};
const commonOnly = {
  group: [...cdktf, '**/edge/**', '**/stacks/**', '**/scripts/**'],
  dynamic: `${cdktfDynamic}|(^|\\u002F)(edge|stacks|scripts)\\u002F`,
  message: 'common/ is shared by edge/, scripts/ and stacks/: it imports none of them, nor the CDKTF toolchain.',
};

export default tseslint.config(
  { ignores: ['node_modules/', '.gen/', 'dist/', 'cdktf.out/', 'bench-results/', 'test-results/', '.meet/'] },
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    languageOptions: { parserOptions: { ecmaVersion: 'latest', sourceType: 'module' } },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    files: ['edge/auth/**'],
    rules: restrict([toolchain, testCode, noAgent]),
  },
  {
    files: ['edge/agent/**'],
    rules: restrict([toolchain, testCode, noAuth]),
  },
  { files: ['edge/shared/**', 'edge/i18n/**'], rules: restrict([toolchain, testCode, noService]) },
  {
    files: ['stacks/**'],
    rules: restrict([testCode, noEdge]),
  },
  { files: ['scripts/**'], rules: restrict([testCode]) },
  {
    files: ['common/**'],
    rules: restrict([testCode, commonOnly]),
  },
  // CommonJS files, run by plain node in a child process (stacks/tooling/run-generator.cjs), load with require().
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
