module.exports = {
  ...require('../jest.preset.js'),
  displayName: 'devices-sim',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  moduleNameMapper: {
    '^@dustwatch/telemetry$': '<rootDir>/../libs/telemetry/src/index.ts',
    '^@dustwatch/rules$': '<rootDir>/../libs/rules/src/index.ts',
  },
};
