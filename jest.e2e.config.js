// End-to-end tests against the local control plane (scripts/cluster): one cluster for the
// whole run, started by globalSetup and always torn down by globalTeardown. Files run in
// band because they share the cluster. Jest loads global set-up files with node's own ESM
// loader, so they run compiled (npm run build:harness) rather than through ts-jest.
import unit from './jest.config.js';

/** @type {import('jest').Config} */
export default {
  ...unit,
  displayName: 'e2e',
  testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
  globalSetup: '<rootDir>/.build/test/e2e/setup.js',
  globalTeardown: '<rootDir>/.build/test/e2e/teardown.js',
  testSequencer: '<rootDir>/test/e2e/sequencer.cjs',
  testTimeout: 600_000,
  maxWorkers: 1,
};
