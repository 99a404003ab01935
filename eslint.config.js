import js from '@eslint/js';
import n from 'eslint-plugin-n';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// One config for the monorepo. eslint-plugin-n is held to the engines floor (>=20.19), so using a Node
// API newer than that fails lint unless it is behind feature detection and marked as such.
export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'bench/results/**', '**/coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,mjs,js}'],
    plugins: { n },
    languageOptions: { globals: globals.node },
    settings: { node: { version: '>=20.19.0' } },
    rules: {
      // The Fetch globals ship in Node 20 (marked experimental until 21, stable in behaviour): the
      // fetch adapter is built on them. Anything else newer than the floor is an error.
      'n/no-unsupported-features/node-builtins': ['error', { ignores: ['Request', 'Response', 'Headers', 'ReadableStream', 'fetch', 'FormData'] }],
      'n/no-unsupported-features/es-syntax': 'off',
      'n/prefer-node-protocol': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    files: ['**/*.test.ts', '**/test/**', 'packages/testkit/**'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
