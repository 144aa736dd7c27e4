// Flat config: typescript-eslint's recommended rules over every TypeScript source.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.vscode-test/**', '.cache/**', 'out/**', 'media/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js', '**/*.cjs'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', require: 'readonly', module: 'writable', __dirname: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', URL: 'readonly' },
    },
  },
  {
    // CommonJS launchers (bin/) load the bundled CLI with require().
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  // Import boundaries (test/support/boundaries.ts states them all and test/unit/boundaries.test.ts
  // checks every file; these rules make the editor say so while typing).
  {
    files: ['server/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'Only extension/ may import vscode.' }],
          patterns: [{ group: ['**/extension/*', '**/webview/*'], message: 'The engine never imports the editor or webview code.' }],
        },
      ],
    },
  },
  {
    files: ['server/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'Only extension/ may import vscode.' }],
          patterns: [{ group: ['../*', 'node:*'], message: 'The protocol imports nothing else of ours (and nothing of Node: webviews use it).' }],
        },
      ],
    },
  },
  {
    files: ['extension/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // The webviews' contracts (the review room's, the dashboard's) and nothing else of them.
              group: ['../server/*', '!../server/protocol', '../webview/*', '!../webview/contract', '!../webview/dashboard', '../webview/dashboard/*', '!../webview/dashboard/contract'],
              message: 'extension/ reaches the engine only through server/protocol.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['webview/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'A webview has no VS Code API but its message contract.' }],
          patterns: [{ group: ['node:*', '**/server/*', '**/extension/*'], message: 'webview/ imports its own contract and files only.' }],
        },
      ],
    },
  },
);
