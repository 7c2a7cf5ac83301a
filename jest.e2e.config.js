// End-to-end tests against local control planes (scripts/cluster): globalSetup starts one
// cluster per jest worker (LCR_E2E_WORKERS, default 2) side by side and globalTeardown always
// stops them all; worker N runs its files on cluster N (test/harness/env.ts). The files are
// independent of each other's leftovers, so any split and order works. Jest loads global set-up
// files with node's own ESM loader, so they run compiled (npm run build:harness), not through ts-jest.
import unit from './jest.config.js';

const workers = Number(process.env.LCR_E2E_WORKERS ?? 2);
if (!Number.isInteger(workers) || workers < 1) throw new Error(`LCR_E2E_WORKERS must be a whole number of 1 or more, not ${process.env.LCR_E2E_WORKERS}`);

/** @type {import('jest').Config} */
export default {
  ...unit,
  displayName: 'e2e',
  testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
  globalSetup: '<rootDir>/.build/test/e2e/setup.js',
  globalTeardown: '<rootDir>/.build/test/e2e/teardown.js',
  testSequencer: '<rootDir>/test/e2e/sequencer.cjs',
  testTimeout: 600_000,
  maxWorkers: workers,
};
