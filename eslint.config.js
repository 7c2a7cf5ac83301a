import tseslint from 'typescript-eslint';

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
);
