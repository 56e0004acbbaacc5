// Shared jest settings. TZ is pinned so no test depends on the machine's zone;
// Asia/Shanghai day boundaries are computed explicitly in code.
process.env.TZ = 'UTC';
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: { '^@dustwatch/telemetry$': '<rootDir>/../../libs/telemetry/src/index.ts' },
};
