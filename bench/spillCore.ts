/**
 * The spill measurement shared by bench/spill.ts (Node, a spill file in a temporary folder) and
 * bench/page/spillWorker.ts (the page's engine-worker setting, an OPFS spill file): `count` pruned
 * matrices of 32 MiB written once to each store, then read back in the load's 64 MiB slices (as
 * LlamaModel reads a streamed layer through the overlay checkpoint), three passes, the best one. No
 * Node or DOM imports.
 */
import { LOAD_SLICE_BYTES } from '../src/io/limits';
import type { TensorStore } from '../src/io/spill';

export const MATRIX_BYTES = 32 * 2 ** 20; // a 4096 x 4096 BF16 matrix

export interface SpillRates {
  /** GB/s written (add) and read back (best of three passes). */
  write: number;
  read: number;
}

export async function measureStore(store: TensorStore, count: number): Promise<SpillRates> {
  let t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const m = new Uint8Array(MATRIX_BYTES);
    for (let j = 0; j < MATRIX_BYTES; j += 4096) m[j] = (i + j) & 255;
    await store.add(`m${i}`, m);
  }
  const write = (count * MATRIX_BYTES) / ((performance.now() - t0) / 1000) / 1e9;
  // three passes over every matrix in load slices; the best one (the machine is shared)
  let best = Infinity;
  for (let pass = 0; pass < 3; pass++) {
    t0 = performance.now();
    let sum = 0;
    for (let i = 0; i < count; i++) {
      for (let at = 0; at < MATRIX_BYTES; at += LOAD_SLICE_BYTES) sum += (await store.read(`m${i}`, at, Math.min(LOAD_SLICE_BYTES, MATRIX_BYTES - at)))[0];
    }
    best = Math.min(best, performance.now() - t0);
    if (sum < 0) console.log(sum); // keep the reads
  }
  return { write, read: (count * MATRIX_BYTES) / (best / 1000) / 1e9 };
}

/** The report: both rates, their ratio, and what a streamed forward spends reading per model size. */
export function spillReport(where: string, count: number, mem: SpillRates, disk: SpillRates): string[] {
  const lines = [
    `spill (${where}): ${count} matrices of 32 MiB (${((count * MATRIX_BYTES) / 2 ** 30).toFixed(2)} GiB) read back in ${LOAD_SLICE_BYTES / 2 ** 20} MiB slices: memory ${mem.read.toFixed(2)} GB/s, spill file ${disk.read.toFixed(2)} GB/s (just written), ${(mem.read / disk.read).toFixed(2)}x | written: memory ${mem.write.toFixed(2)} GB/s, spill file ${disk.write.toFixed(2)} GB/s`,
  ];
  // a streamed forward reads every pruned matrix once (BF16 bytes of the decoder layers' linears)
  for (const [model, bytes] of [
    ['SmolLM2-135M', 202 * 2 ** 20],
    ['Llama-3.2-1B', 1.81 * 2 ** 30],
    ['Llama-3-8B (32 layers)', 13.0 * 2 ** 30],
  ] as const) {
    lines.push(`spill (${where}): reading ${model}'s pruned matrices per forward: memory ${(bytes / 1e9 / mem.read).toFixed(2)} s, spill file ${(bytes / 1e9 / disk.read).toFixed(2)} s`);
  }
  return lines;
}
