/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }] },
  // The Functions worker provides this module; outside it, the local host does (src/localHost).
  moduleNameMapper: { '^@azure/functions-core$': '<rootDir>/src/localHost/functionsCore.ts' },
  globalSetup: '<rootDir>/test/support/globalSetup.ts',
  globalTeardown: '<rootDir>/test/support/globalTeardown.ts',
  setupFilesAfterEnv: ['<rootDir>/test/support/outputCapture.ts'],
  testTimeout: 30000,
  // Two cores on CI: more workers than that only adds contention with Azurite and the sandbox.
  maxWorkers: 2,
};
