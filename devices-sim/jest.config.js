module.exports = {
  ...require('../jest.preset.js'),
  displayName: 'devices-sim',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  moduleNameMapper: {
    '^@dustwatch/(.*)$': '<rootDir>/../libs/$1/src/index.ts',
  },
};
