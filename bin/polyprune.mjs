#!/usr/bin/env node
// Entry point of the `polyprune` command: runs the CLI bundle built by `npm run build:cli`
// (npm install / npm ci build it through the `prepare` script).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const bundle = fileURLToPath(new URL('../dist-cli/polyprune.mjs', import.meta.url));
if (!existsSync(bundle)) {
  console.error('polyprune: the CLI is not built yet. Run `npm run build:cli` in the project folder first.');
  process.exit(2);
}
let runCli;
try {
  ({ runCli } = await import(pathToFileURL(bundle).href));
} catch (e) {
  // One line, never Node's stack: a dependency missing (node_modules incomplete, or being reinstalled
  // by npm at this moment) or a bundle that does not load (half-written by a build running now).
  const first = String(e?.message ?? e).split('\n')[0];
  console.error(
    e?.code === 'ERR_MODULE_NOT_FOUND'
      ? `polyprune: cannot start: ${first}. Its dependencies are missing or being reinstalled: run \`npm install\` in the project folder (or wait for the install running now to finish), then try again.`
      : `polyprune: cannot start: the CLI bundle did not load (${e?.name ?? 'Error'}: ${first}). Rebuild it with \`npm run build:cli\` (or wait for the build running now to finish), then try again.`,
  );
  process.exit(1);
}
process.exitCode = await runCli(process.argv);
