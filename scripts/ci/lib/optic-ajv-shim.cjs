// Preloaded into the optic CLI by the contracts_breaking_change gate.
// npm hoists ajv-errors next to the root ajv (8.17.1, pinned by optic) while spectral-core nests its own ajv
// (^8.18); ajv-errors then emits code for one ajv into the other and spectral fails to start. Pointing every
// `ajv` import at spectral-core's copy makes them agree. A no-op once a root `overrides` dedupes ajv.
const Module = require('node:module');
const path = require('node:path');

const fs = require('node:fs');

/** The folder holding the package.json of the package `file` belongs to (packages may not export package.json). */
function packageRoot(file) {
  let dir = path.dirname(file);
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

function spectralAjvDir() {
  try {
    const optic = packageRoot(require.resolve('@useoptic/optic'));
    const spectral = packageRoot(require.resolve('@stoplight/spectral-core', { paths: [optic] }));
    return packageRoot(require.resolve('ajv', { paths: [spectral] }));
  } catch {
    return undefined;
  }
}

const ajvDir = spectralAjvDir();
if (ajvDir) {
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, parent, ...rest) {
    if (request === 'ajv' || request.startsWith('ajv/')) request = ajvDir + request.slice(3);
    return resolve.call(this, request, parent, ...rest);
  };
}
