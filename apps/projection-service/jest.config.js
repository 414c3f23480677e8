/** @type {import('jest').Config} */
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'projection-service',
  rootDir: __dirname,
  // The projection service arrives with its own tests in the projections milestone.
  passWithNoTests: true,
};
