/**
 * What the kafkajs fixes (kafkajs-empty-batches.ts, kafkajs-encoder-buffers.ts, kafkajs-grouping.ts) share: kafkajs
 * 2.2.4 is pinned, and each fix replaces or patches one of its internal CommonJS modules before
 * the modules that take it load.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs's internal CommonJS modules */

/** The kafkajs the fixes were written for (package.json pins it). */
export const KAFKAJS_VERSION = '2.2.4';

/** Throws unless the installed kafkajs is the pinned one: its internals are what `fixFile` patches. */
export function assertKafkajsVersion(fixFile: string): void {
  const { version } = require('kafkajs/package.json') as { version: string };
  if (version !== KAFKAJS_VERSION) throw new Error(`kafkajs ${version} is not the ${KAFKAJS_VERSION} that ${fixFile} was written for: check whether the fix is still needed, then update it`);
}

/** Throws when one of `modules` has loaded already: it would keep the module the fix replaces. */
export function assertNotLoaded(modules: readonly string[], fix: string, importFirst: string): void {
  for (const m of modules) {
    if (require.cache[require.resolve(m)] !== undefined) throw new Error(`kafkajs loaded ${m} before ${fix}: import ${importFirst} first`);
  }
}

/** Makes `require(module)` return `exports` from now on. */
export function replaceModule(module: string, exports: unknown): void {
  require(module);
  const entry = require.cache[require.resolve(module)];
  if (entry === undefined) throw new Error(`kafkajs: ${module} is not in the CommonJS module cache; it cannot be replaced`);
  entry.exports = exports;
}
