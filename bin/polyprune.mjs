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
const { runCli } = await import(pathToFileURL(bundle).href);
process.exitCode = await runCli(process.argv);
