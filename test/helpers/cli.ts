/** The built CLI run from the tests as a user runs it: `node bin/polyprune.mjs ...` (it loads dist-cli/). */
import { spawn, spawnSync } from 'node:child_process';
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

/**
 * Runs the CLI with `args` without blocking this process (for a test whose own HTTP server answers
 * it), with `env` over this process's environment; killed after `timeout` ms.
 */
export function runCliAsync(args: string[], opts: { timeout?: number; env?: Record<string, string> } = {}): Promise<CliRun> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [CLI_BIN, ...args], { env: { ...process.env, ...opts.env }, timeout: opts.timeout ?? 120_000 });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    p.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

/** Fails loudly when the CLI bundle has not been built. */
export function requireCliBundle(): void {
  if (!existsSync(path.resolve('dist-cli/polyprune.mjs'))) throw new Error('CLI bundle missing: run `npm run build:cli` (npm test does).');
}
