// @ts-check
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'coverage/**', 'scratch/**', '.covseg/**', '**/*.vue'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The engine runs under plain Node (CLI, server, tests): an Electron import would break all three.
    files: ['src-main/engine/**/*.ts', 'src-shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'The engine and the contract must not depend on Electron.' }],
          patterns: [{ group: ['electron/*'], message: 'The engine and the contract must not depend on Electron.' }],
        },
      ],
    },
  },
  {
    // The security decisions are unit-tested under plain Node, where importing Electron fails.
    files: ['src-main/security/**/*.ts', 'src-main/http/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'Security decisions and the HTTP transport must run without Electron; wire them in src-main/desktop/.' }] }],
    },
  },
);
