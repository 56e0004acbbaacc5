// Shared jest settings. TZ is pinned so no test depends on the machine's zone;
// Asia/Shanghai day boundaries are computed explicitly in code.
process.env.TZ = 'UTC';
module.exports = {
  testEnvironment: 'node',
  // isolatedModules (tsconfig.spec.json): transpile only; types are checked once by `tsc` (typecheck, build).
  transform: { '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }] },
  // aedes 1.x is ESM-only and jest's module registry cannot require ESM on Node 20: compile it
  // (and only it) to CommonJS for tests. The built service loads it with Node's own require.
  transformIgnorePatterns: ['/node_modules/(?!aedes/)'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  // Every lib by its package name; `rootDir` is the project's own folder, two levels below the workspace.
  moduleNameMapper: {
    // The port contract suites (libs/core/testing), run by every store implementation.
    '^@dustwatch/core/testing$': '<rootDir>/../../libs/core/testing/index.ts',
    '^@dustwatch/(.*)$': '<rootDir>/../../libs/$1/src/index.ts',
  },
};
