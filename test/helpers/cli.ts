/** The built CLI run from the tests as a user runs it: `node bin/polyprune.mjs ...` (it loads dist-cli/). */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const CLI_BIN = path.resolve('bin/polyprune.mjs');

export interface CliRun {
  /** Exit status; -1 when the process was killed (e.g. after `timeout`). */
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with `args` to its end (killed after `timeout` ms). */
export function runCli(args: string[], timeout = 600_000): CliRun {
  const r = spawnSync(process.execPath, [CLI_BIN, ...args], { encoding: 'utf8', timeout });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Fails loudly when the CLI bundle has not been built. */
export function requireCliBundle(): void {
  if (!existsSync(path.resolve('dist-cli/polyprune.mjs'))) throw new Error('CLI bundle missing: run `npm run build:cli` (npm test does).');
}
