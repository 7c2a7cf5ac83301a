// Unit tests. ESM TypeScript under jest: ts-jest compiles each file as an ES module and
// node's --experimental-vm-modules loads it, so ESM-only dependencies
// (@kubernetes/client-node, p-retry) are imported for real, never mocked.
/** @type {import('jest').Config} */
export default {
  displayName: 'unit',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
};
