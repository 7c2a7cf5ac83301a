import tseslint from 'typescript-eslint';

/**
 * The house, top to bottom: cli -> commands -> (unattended, fleet, status) -> rotation -> kube,
 * with certs, wait, options and the top-level files (errors, log, config, duration) as leaves.
 * A folder may import any folder below it, never one above (nor, for unattended, fleet and
 * status, each other but as listed): each entry names what its files must not import.
 */
const above = {
  commands: ['cli'],
  unattended: ['cli', 'commands', 'fleet'],
  fleet: ['cli', 'commands', 'unattended'],
  status: ['cli', 'commands', 'unattended', 'fleet'],
  rotation: ['cli', 'commands', 'unattended', 'fleet', 'status'],
  kube: ['cli', 'commands', 'unattended', 'fleet', 'status', 'rotation'],
};
const leafAbove = [...above.kube, 'kube'];
const layer = (files, folders) => ({
  files,
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            regex: `^\\.\\.?/(\\.\\./)*(${folders.join('|')})/`,
            message: `an upward import: ${files.join(', ')} sits below ${folders.join(', ')} (see "The house" in eslint.config.js)`,
          },
        ],
      },
    ],
  },
});
const layers = [
  ...Object.entries(above).map(([folder, folders]) => layer([`src/${folder}/**/*.ts`], folders)),
  layer(['src/certs/**/*.ts', 'src/wait/**/*.ts', 'src/options/**/*.ts', 'src/*.ts'], leafAbove),
];

export default tseslint.config(
  { ignores: ['dist/**', 'bundle/**', '.build/**', 'node_modules/**', 'coverage/**', 'chart/**', '*.config.js', '**/*.cjs', '*.tmp.*'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['scripts/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Caps that keep functions readable: a split into named functions reads better past these;
    // the few justified exceptions carry `eslint-disable-next-line complexity -- <why>`.
    files: ['src/**/*.ts'],
    rules: {
      complexity: ['error', 15],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
  ...layers,
);
