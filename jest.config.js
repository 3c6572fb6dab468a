/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // ts-jest in transpile-only mode (tsconfig's isolatedModules): type checking is `npm run
  // typecheck`'s job. Not swc: its platform binaries are optional dependencies that a registry
  // serving one platform cannot resolve, which leaves a lock file `npm ci` rejects.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // The Functions worker provides this module; outside it, the local host does (dev/localHost).
  // '#app/...' is how dev/ names the app (package.json "imports", tsconfig "paths"): here, its sources.
  moduleNameMapper: {
    '^@azure/functions-core$': '<rootDir>/dev/localHost/functionsCore.ts',
    '^#app/(.*)$': '<rootDir>/src/$1',
  },
  globalSetup: '<rootDir>/test/support/globalSetup.ts',
  globalTeardown: '<rootDir>/test/support/globalTeardown.ts',
  setupFilesAfterEnv: ['<rootDir>/test/support/outputCapture.ts'],
  testTimeout: 30000,
  // Two cores on CI: more workers than that only adds contention with Azurite and the sandbox.
  maxWorkers: 2,
};
