import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dist-bench/**',
      'dist-dev/**',
      'dist-package/**',
      '.tools/**',
      'node_modules/**',
      'coverage/**',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    // Type information for the promise rules: the project service reads tsconfig.json, which
    // covers src, test, bench and scripts, so a new folder under any of them is linted typed.
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    files: [
      'test/**/*.ts',
      'bench/**/*.ts',
      'scripts/**/*.ts',
      'dev/localHost/**/*.ts',
      'dev/sandbox/**/*.ts',
      'dev/cli/**/*.ts',
    ],
    rules: { 'no-console': 'off' },
  },
  {
    // src/ is what runs in Azure: it never reaches into the dev tools, tests or benchmarks.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['#app/*', '**/dev', '**/dev/**', '**/test/**', '**/bench/**'],
              message:
                'src/ is the deployed app: it imports only src/ and packages (see docs/architecture.md).',
            },
          ],
        },
      ],
    },
  },
);
