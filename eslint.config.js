// ESLint flat config: typescript-eslint with type information over src, test, bench and scripts (one
// program from tsconfig.test.json, which includes all four). `npm run lint` runs it with --max-warnings 0.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'test-results/', 'test-artifacts/', 'bench/.scratch/', 'scratch/', '.moa-traces/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: ['./tsconfig.test.json'], tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // Promise.all over optional calls (`close?.()`, `run?.done`) is deliberate: undefined entries are fine.
      '@typescript-eslint/await-thenable': ['error', { allowMixedPromiseArrays: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Aborts reject with the signal's own reason (any), and caught errors are passed on as they came.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      // Async functions without await are deliberate: they implement Promise-returning interfaces and turn throws into rejections.
      '@typescript-eslint/require-await': 'off',
      // String(value) of unchecked input (error messages, CSV cells, fakes' URLs) is deliberate, objects included.
      '@typescript-eslint/no-base-to-string': 'off',
      // `PresetInput | unknown` documents the expected shape of an input that is still to be checked.
      '@typescript-eslint/no-redundant-type-constituents': 'off',
      // `this.requests && (this.requests.level -= 1)` style short-circuits are used on purpose.
      '@typescript-eslint/no-unused-expressions': ['error', { allowShortCircuit: true }],
      // Forward declarations that closures read before the one assignment are deliberate.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    files: ['**/*.test.ts', '**/*.test-d.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // Tests and benches read JSON bodies and child output as any and check them with expect (or just print them).
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      // Terminal tests match ANSI escapes (\x1b) on purpose.
      'no-control-regex': 'off',
    },
  },
  {
    // The config files at the root are in no tsconfig: lint them without type information.
    files: ['*.js', '*.config.ts'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { parserOptions: { project: false } },
  },
);
