// @ts-check
const { builtinModules } = require('node:module');
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const prettier = require('eslint-config-prettier');
const globals = require('globals');

/**
 * Modules that must never be reachable from the workflow sandbox (src/workflows) or from pure
 * domain code (src/domain): Node built-ins, I/O libraries, and our own non-deterministic layers.
 */
const nodeBuiltins = builtinModules.flatMap((m) => (m.startsWith('node:') ? [m] : [m, `node:${m}`]));
const sandboxForbiddenPaths = [
  ...nodeBuiltins.map((name) => ({
    name,
    message: 'Node built-ins are not allowed in workflow/domain code.',
  })),
  { name: 'prom-client', message: 'Metrics belong in activities or the API.' },
  { name: 'pino', message: 'Use the workflow logger (log from @temporalio/workflow).' },
  { name: '@temporalio/client', message: 'Workflow code may only use @temporalio/workflow.' },
  { name: '@temporalio/worker', message: 'Workflow code may only use @temporalio/workflow.' },
  { name: '@temporalio/activity', message: 'Workflow code may only use @temporalio/workflow.' },
  { name: '@temporalio/testing', message: 'Workflow code may only use @temporalio/workflow.' },
  { name: 'fastify', message: 'HTTP belongs in src/api.' },
  { name: 'pg', message: 'I/O belongs in adapters.' },
  { name: '@electric-sql/pglite', message: 'I/O belongs in adapters.' },
  { name: '@slack/web-api', message: 'I/O belongs in adapters.' },
];
const sandboxForbiddenPatterns = [
  { group: ['**/adapters', '**/adapters/**'], message: 'Adapters do I/O: call them from activities.' },
  { group: ['**/config', '**/config/**'], message: 'Config is loaded at the edges and passed in as input.' },
  { group: ['**/api', '**/api/**'], message: 'The API is not workflow-safe.' },
  { group: ['**/metrics', '**/metrics/**'], message: 'Metrics are not workflow-safe.' },
  {
    group: ['**/temporal', '**/temporal/**'],
    message: 'Client-side Temporal helpers are not workflow-safe.',
  },
  {
    group: ['**/activities', '**/activities/**'],
    allowTypeImports: true,
    message: 'Import activities with `import type` only.',
  },
];

module.exports = tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.tools/**', '.data/**', 'coverage/**', 'integrations/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: __dirname },
      globals: { ...globals.node },
    },
    rules: {
      // Forgetting to await an activity, a timer or an HTTP call is always a bug here.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['src/workflows/**/*.ts', 'src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: sandboxForbiddenPaths, patterns: sandboxForbiddenPatterns },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'No process.env or process.* in workflow/domain code.' },
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use sleep() in a loop from @temporalio/workflow.' },
        { name: 'Buffer', message: 'Buffer is a Node API.' },
        { name: 'require', message: 'Use static imports.' },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      sourceType: 'commonjs',
      globals: { ...globals.node },
      parserOptions: { projectService: false, project: false },
    },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
