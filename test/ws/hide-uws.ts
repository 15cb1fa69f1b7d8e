// Test support, preloaded into a tsetcd process with `node --import`: both uWebSockets.js packages
// fail to resolve, as on a machine where no build of it is installed or loads.
import { register } from 'node:module';

const hooks = `
export async function resolve(specifier, context, next) {
  if (specifier === 'uWebSockets.js' || specifier === 'uWebSockets.js-node22') {
    const e = new Error("Cannot find package '" + specifier + "' (hidden by the test)");
    e.code = 'ERR_MODULE_NOT_FOUND';
    throw e;
  }
  return next(specifier, context);
}`;

register('data:text/javascript,' + encodeURIComponent(hooks));
