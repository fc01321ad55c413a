/** Unit tests sit next to the code (`*.spec.ts`); contract and e2e tests under `test/`. */
const tsJest = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: true }] };
const common = { testEnvironment: 'node', transform: tsJest, moduleFileExtensions: ['ts', 'js', 'json'] };

module.exports = {
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  testTimeout: 30000,
  projects: [
    { ...common, displayName: 'unit', rootDir: __dirname, testMatch: ['<rootDir>/src/**/*.spec.ts'] },
    { ...common, displayName: 'contract', rootDir: __dirname, testMatch: ['<rootDir>/test/contract/**/*.spec.ts'] },
    { ...common, displayName: 'e2e', rootDir: __dirname, testMatch: ['<rootDir>/test/e2e/**/*.spec.ts'] },
  ],
};
