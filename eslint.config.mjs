import nx from '@nx/eslint-plugin';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import { builtinModules } from 'node:module';

/** Which project types may import which; tests of any project may also use the testing lib. */
function boundaries(forTests) {
  const t = (...tags) => (forTests ? [...tags, 'type:testing'] : tags);
  return {
    enforceBuildableLibDependency: false,
    allow: [],
    depConstraints: [
      {
        sourceTag: 'type:domain',
        onlyDependOnLibsWithTags: t('type:domain', 'type:schemas', 'type:subjects'),
        bannedExternalImports: forTests ? [] : frameworkImports,
      },
      {
        sourceTag: 'type:schemas',
        onlyDependOnLibsWithTags: t('type:schemas', 'type:subjects'),
        bannedExternalImports: forTests ? [] : frameworkImports,
      },
      {
        sourceTag: 'type:subjects',
        onlyDependOnLibsWithTags: t('type:subjects'),
        bannedExternalImports: forTests ? [] : frameworkImports,
      },
      {
        sourceTag: 'type:platform',
        onlyDependOnLibsWithTags: t(
          'type:platform',
          'type:schemas',
          'type:subjects',
          'type:domain',
        ),
      },
      {
        sourceTag: 'type:testing',
        onlyDependOnLibsWithTags: [
          'type:testing',
          'type:platform',
          'type:schemas',
          'type:subjects',
          'type:domain',
        ],
      },
      {
        sourceTag: 'type:app',
        onlyDependOnLibsWithTags: [
          'type:platform',
          'type:schemas',
          'type:subjects',
          'type:domain',
          'type:testing',
        ],
      },
    ],
  };
}

/** What the console's code may use without importing it (no-undef is off for TS anyway). */
const browserGlobals = {
  window: 'readonly',
  document: 'readonly',
  location: 'readonly',
  history: 'readonly',
  sessionStorage: 'readonly',
  fetch: 'readonly',
  console: 'readonly',
  setTimeout: 'readonly',
  clearTimeout: 'readonly',
  setInterval: 'readonly',
  clearInterval: 'readonly',
  URL: 'readonly',
  URLSearchParams: 'readonly',
  AbortController: 'readonly',
  TextDecoder: 'readonly',
  addEventListener: 'readonly',
  matchMedia: 'readonly',
  TextDecoderStream: 'readonly',
};

const frameworkImports = [
  '@nats-io/*',
  'fastify',
  '@fastify/*',
  'pino',
  'pino-*',
  'prom-client',
  'node:*',
];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules',
      '**/dist',
      '**/.data',
      '**/.nx',
      '**/coverage',
      '**/tmp',
      'test-output',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
      },
    },
    rules: {
      '@nx/enforce-module-boundaries': ['error', boundaries(false)],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': 'error',
    },
  },
  {
    // The console (apps/console) runs in the browser: TSX with Preact, browser globals, the same
    // boundaries as every app (it may import only the client's types).
    files: ['apps/console/**/*.ts', 'apps/console/**/*.tsx', 'apps/console/**/*.mts'],
    plugins: { '@nx': nx },
    languageOptions: { globals: { ...browserGlobals } },
    rules: {
      '@nx/enforce-module-boundaries': ['error', boundaries(false)],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': 'error',
    },
  },
  {
    files: ['**/*.spec.ts'],
    rules: { '@nx/enforce-module-boundaries': ['error', boundaries(true)] },
  },
  {
    // The domain is pure: no I/O, no Node built-ins, whatever the import spelling.
    files: ['libs/domain/**/*.ts', 'libs/schemas/**/*.ts', 'libs/subjects/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: builtinModules.map((name) => ({
            name,
            message: 'pure libs may not use Node built-ins',
          })),
          patterns: [{ group: ['node:*'], message: 'pure libs may not use Node built-ins' }],
        },
      ],
    },
  },
  {
    // CLI tools, benchmarks and the stack launcher print to the terminal on purpose.
    files: ['tools/**/*.ts', 'tools/**/*.mjs'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        process: 'readonly',
        console: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
