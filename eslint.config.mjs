// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', 'coverage/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      'no-restricted-syntax': ['error', { selector: 'TSEnumDeclaration', message: 'Use a literal union, not an enum.' }],
    },
  },
  {
    // The pure middle of the pipeline: no clock, no I/O, no logger (docs/architecture.md: pure functions in the middle).
    files: ['src/decode/**/*.ts', 'src/classify/**/*.ts', 'src/correlate/**/*.ts', 'src/sink/ecs.ts', 'src/sink/scan-summaries.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/source/*', '**/sink/elastic*', '**/sink/dead-letter*', '**/cli/*', '**/pipeline', '**/log', '**/metrics'], message: 'Imports follow the flow source -> decode -> correlate -> classify -> sink; the pure stages do no I/O and do not log.' },
          { group: ['kafkajs', '@elastic/elasticsearch', 'pino', 'node:fs', 'fs', 'node:net', 'node:http'], message: 'Pure stage: no I/O here.' },
        ],
      }],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'Time comes from records or an injected clock.' }],
    },
  },
  {
    // The driver and the pipeline compose the stages; they too read no clock and do no I/O.
    files: ['src/driver.ts', 'src/pipeline.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/source/*', '**/sink/elastic*', '**/sink/dead-letter*', '**/cli/*', '**/log', '**/metrics'], message: 'The driver is pure: sources, sinks and logs are injected by cli/.' },
          { group: ['kafkajs', '@elastic/elasticsearch', 'pino', 'node:fs', 'fs', 'node:net', 'node:http'], message: 'Pure: no I/O here.' },
        ],
      }],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'Time comes from records or an injected clock.' }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly', __dirname: 'readonly', process: 'readonly' } },
  },
);
