/**
 * WebGPU in Node through Dawn (npm `webgpu`). Only the CLI, benchmarks and tests import this file;
 * the browser build never does.
 */
import { PolyPruneError } from '../common/errors';

let cached: GPU | undefined;

/** The `navigator.gpu` equivalent for Node. Installs WebGPU globals (GPUBufferUsage, ...) once. */
export async function nodeGpu(): Promise<GPU> {
  if (cached) return cached;
  let mod: typeof import('webgpu');
  try {
    mod = await import('webgpu');
  } catch (e) {
    throw new PolyPruneError(
      'GPU_UNAVAILABLE',
      `Could not load Dawn (npm package 'webgpu'): ${(e as Error).message}. Run npm install in the project folder.`,
    );
  }
  Object.assign(globalThis, mod.globals);
  cached = mod.create([]);
  return cached;
}
