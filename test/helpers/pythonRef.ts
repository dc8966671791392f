/**
 * The independent numpy references in tools/ (owl, ria, gptq, cohere, packed Wanda) run from the
 * tests: python3 on a script with its arguments, failing loudly (with the script's stderr and how to
 * install numpy) when python3, numpy or the script fails; and the little-endian arrays they write.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Runs `python3 <script> ...args` (script relative to the repository root) and returns its stdout. */
export function runPythonReference(what: string, script: string, args: string[]): string {
  try {
    return execFileSync('python3', [path.resolve(script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`The ${what} reference (python3 + numpy; Debian: apt-get install -y python3-numpy) failed: ${err.stderr?.toString() || err.message}`, { cause: e });
  }
}

/** A file of little-endian float64 values. */
export function readF64(file: string): Float64Array {
  const b = readFileSync(file);
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** A file of little-endian int32 values. */
export function readI32(file: string): Int32Array {
  const b = readFileSync(file);
  return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
