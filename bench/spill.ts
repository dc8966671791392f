/**
 * The spill file's cost per forward of a streamed pruned model (src/io/spill.ts): the pruned matrices
 * written once, then read back in the load's 64 MiB slices from host memory and from the spill file,
 * side by side in one run (bench/spillCore.ts). GB/s of each, and what a forward then spends reading for
 * the model sizes of the size ladder. The spill file has just been written, so the operating system's
 * page cache holds it (a machine whose memory cannot cache the file reads at the disk's speed instead).
 * No GPU work; BENCH_ONLY=spill runs only this section; BENCH_SPILL_MIB sets the bytes (default 1024).
 * The same in Chromium with an OPFS spill file: `npm run bench:spill-page` (bench/page/).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { nodeSpill } from '../src/io/node';
import { memoryStore, openTensorStore } from '../src/io/spill';
import { MATRIX_BYTES, measureStore, spillReport } from './spillCore';

export async function benchSpill(): Promise<void> {
  const total = Number(process.env.BENCH_SPILL_MIB ?? 1024) * 2 ** 20;
  const count = Math.max(1, Math.round(total / MATRIX_BYTES));
  const dir = mkdtempSync(path.join(tmpdir(), 'polyprune-bench-spill-'));
  const mem = memoryStore();
  const disk = await openTensorStore(count * MATRIX_BYTES, { aboveBytes: 0, backing: nodeSpill(dir) });
  try {
    if (disk.kind !== 'disk') throw new Error(`no spill file in ${dir}: ${disk.warning ?? '?'}`);
    const m = await measureStore(mem, count);
    const d = await measureStore(disk, count);
    for (const line of spillReport('Node, a file in the temporary folder', count, m, d)) console.log(line);
  } finally {
    await mem.dispose();
    await disk.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
