/**
 * The spill file's cost per forward of a streamed pruned model (src/io/spill.ts): the pruned matrices
 * written once, then read back in the load's 64 MiB slices (as LlamaModel reads a streamed layer
 * through the overlay checkpoint) from host memory and from the spill file, side by side in one run.
 * GB/s of each, and what a forward then spends reading for the model sizes of the size ladder. The
 * spill file has just been written, so the operating system's page cache holds it (a machine whose
 * memory cannot cache the file reads at the disk's speed instead). No GPU work; BENCH_ONLY=spill runs
 * only this section; BENCH_SPILL_MIB sets the bytes (default 1024).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LOAD_SLICE_BYTES } from '../src/io/limits';
import { nodeSpill } from '../src/io/node';
import { memoryStore, openTensorStore, type TensorStore } from '../src/io/spill';

const MATRIX_BYTES = 32 * 2 ** 20; // a 4096 x 4096 BF16 matrix

export async function benchSpill(): Promise<void> {
  const total = Number(process.env.BENCH_SPILL_MIB ?? 1024) * 2 ** 20;
  const count = Math.max(1, Math.round(total / MATRIX_BYTES));
  const dir = mkdtempSync(path.join(tmpdir(), 'polyprune-bench-spill-'));
  const stores: Record<string, TensorStore> = { memory: memoryStore(), 'spill file': await openTensorStore(count * MATRIX_BYTES, { aboveBytes: 0, backing: nodeSpill(dir) }) };
  const rates: Record<string, { write: number; read: number }> = {};
  try {
    if (stores['spill file'].kind !== 'disk') throw new Error(`no spill file in ${dir}: ${stores['spill file'].warning ?? '?'}`);
    for (const [name, store] of Object.entries(stores)) {
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
      rates[name] = { write, read: (count * MATRIX_BYTES) / (best / 1000) / 1e9 };
    }
  } finally {
    for (const s of Object.values(stores)) await s.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  const mem = rates.memory;
  const disk = rates['spill file'];
  console.log(
    `spill: ${count} matrices of 32 MiB (${((count * MATRIX_BYTES) / 2 ** 30).toFixed(2)} GiB) read back in ${LOAD_SLICE_BYTES / 2 ** 20} MiB slices: memory ${mem.read.toFixed(2)} GB/s, spill file ${disk.read.toFixed(2)} GB/s (page cache warm), ${(mem.read / disk.read).toFixed(2)}x | written: memory ${mem.write.toFixed(2)} GB/s, spill file ${disk.write.toFixed(2)} GB/s`,
  );
  // a streamed forward reads every pruned matrix once (BF16 bytes of the decoder layers' linears)
  for (const [model, bytes] of [
    ['SmolLM2-135M', 202 * 2 ** 20],
    ['Llama-3.2-1B', 1.81 * 2 ** 30],
    ['Llama-3-8B (32 layers)', 13.0 * 2 ** 30],
  ] as const) {
    console.log(`spill: reading ${model}'s pruned matrices per forward: memory ${(bytes / 1e9 / mem.read).toFixed(2)} s, spill file ${(bytes / 1e9 / disk.read).toFixed(2)} s`);
  }
}
