// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/', '**/dist/', '.tools/', '.stowage/'] },
  js.configs.recommended,
  tseslint.configs.strict,
  {
    rules: {
      // With noUncheckedIndexedAccess, `!` marks an index the code has just checked; tsc keeps it honest.
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error', 'warn'] }],
    },
  },
  {
    // Tests read response bodies of many shapes.
    files: ['**/*.test.ts', 'test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Command-line entry points talk to their user on stdout.
    files: ['scripts/**', 'services/cli/**', 'load-tests/**'],
    rules: { 'no-console': 'off' },
  },
);
