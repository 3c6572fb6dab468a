'use strict';
// Loads a Functions app the way the Functions worker does and prints what it registered, as one
// JSON line: `node captureRegistrations.js <appDir>`. Plain JavaScript on purpose: the test copies
// this file next to the unpacked deploy package, where no TypeScript tooling exists.
//
// `@azure/functions-core` is the worker's own module (see dev/localHost/functionsCore.ts); here a
// stand-in records `registerFunction` metadata exactly as the library hands it over.
const Module = require('node:module');
const path = require('node:path');

const registrations = [];
const core = {
  registerFunction(metadata) {
    registrations.push(metadata);
    return { dispose() {} };
  },
  registerHook() {
    return { dispose() {} };
  },
  setProgrammingModel() {},
  getProgrammingModel() {},
  log() {},
};
const coreId = path.join(__dirname, '@azure-functions-core-stand-in.js');
const coreModule = new Module(coreId);
coreModule.filename = coreId;
coreModule.loaded = true;
coreModule.exports = core;
require.cache[coreId] = coreModule;
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return request === '@azure/functions-core' ? coreId : resolve.call(this, request, ...rest);
};

const appDir = path.resolve(process.argv[2]);
const main = require(path.join(appDir, 'package.json')).main;
require(path.join(appDir, main));

const functions = registrations
  .map(({ name, bindings }) => ({
    name,
    bindings: Object.values(bindings)
      .map(
        ({ type, direction, route, methods, authLevel, schedule, runOnStartup, queueName, connection }) => ({
          type,
          direction,
          route,
          methods: methods && [...methods].sort(),
          authLevel,
          schedule,
          runOnStartup,
          queueName,
          connection,
        }),
      )
      .sort((a, b) => `${a.type}${a.direction}`.localeCompare(`${b.type}${b.direction}`)),
  }))
  .sort((a, b) => a.name.localeCompare(b.name));
const modules = Object.keys(require.cache).filter((file) => file !== coreId);
process.stdout.write(`${JSON.stringify({ node: process.version, functions, modules })}\n`);
// The app may hold timers or sockets open (SDK clients); what it registered is all that is asked.
process.exit(0);
