// Lint rules that keep the boundaries of docs/architecture.md: auth and agent never import each other, edge never
// imports the CDKTF toolchain, stacks never import edge's runtime, nothing outside test/ imports test code, and no
// import cycle anywhere.
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });
const toolchain = { group: ['cdktf', 'cdktf/*', 'constructs', '@cdktf/*'], message: 'edge/ is runtime code: no CDKTF toolchain.' };
const testCode = { group: ['**/test/**', '../test/*', '../../test/*'], message: 'Only tests import test code.' };

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
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['edge/auth/**'],
    rules: restrict([toolchain, testCode, { group: ['**/agent/**', '../agent/*'], message: 'meet-auth never imports the agent.' }]),
  },
  {
    files: ['edge/agent/**'],
    rules: restrict([toolchain, testCode, { group: ['**/auth/**', '../auth/*'], message: 'The agent never imports meet-auth.' }]),
  },
  { files: ['edge/shared/**', 'edge/i18n/**'], rules: restrict([toolchain, testCode]) },
  {
    files: ['stacks/**'],
    rules: restrict([testCode, { group: ['**/edge/**'], message: 'stacks/ only reference the image, never edge runtime code.' }]),
  },
  { files: ['scripts/**'], rules: restrict([testCode]) },
  {
    files: ['common/**'],
    rules: restrict([toolchain, testCode, { group: ['**/edge/**', '**/stacks/**', '**/scripts/**'], message: 'common/ is shared by edge/, scripts/ and stacks/: it imports none of them.' }]),
  },
  // CommonJS files, run by plain node in a child process (stacks/tooling/run-generator.cjs), load with require().
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs' }, rules: { '@typescript-eslint/no-require-imports': 'off' } },
);
