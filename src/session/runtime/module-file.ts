/**
 * The path of this very file, from which the package finds its own files (the admin page) and
 * resolves its optional peers as an `import` written here would.
 *
 * This is the CommonJS form, which the monolith and the tests run. The ES module build of the
 * package replaces this file with `fileURLToPath(import.meta.url)` (see `scripts/build-package.mjs`):
 * neither form compiles in the other module system.
 */
export const MODULE_FILE: string = __filename;
