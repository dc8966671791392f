/**
 * A load holds one bounded slice of a weight matrix on the host at a time, never the whole tensor
 * (issue 22): uploadMatrix reads row slices of at most `sliceBytes` through the checkpoint's byte
 * source and writes each into its GPU buffer, bit for bit what a whole-tensor upload gave, NaN/Inf
 * in a later slice still found at its index. The plan's host estimate counts from the same slice.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import type { Gpu } from '../../src/gpu/device';
import { FiniteCheck } from '../../src/gpu/finite';
import { f32ToBf16Bits } from '../../src/io/dtypes';
import { LOAD_SLICE_BYTES } from '../../src/io/limits';
import { openCheckpoint, serializeSafetensors, type Checkpoint } from '../../src/io/safetensors';
import type { ByteSource, ModelFolder } from '../../src/io/source';
import { uploadMatrix } from '../../src/model/llama';
import { loadHostBytesOf } from '../../src/prune/plan';
import { testGpu, randn } from '../helpers/gpu';

/** A one-file checkpoint in memory whose byte source records the length of every read. */
async function countingCheckpoint(bytes: Uint8Array): Promise<{ ckpt: Checkpoint; reads: number[] }> {
  const reads: number[] = [];
  const src: ByteSource = {
    name: 'model.safetensors',
    size: () => Promise.resolve(bytes.byteLength),
    read(offset, length) {
      reads.push(length);
      return Promise.resolve(bytes.slice(offset, offset + length));
    },
  };
  const folder: ModelFolder = {
    location: 'memory',
    readText: () => Promise.reject(new Error('no text files')),
    open: () => src,
    exists: (name) => Promise.resolve(name === 'model.safetensors'),
  };
  const ckpt = await openCheckpoint(folder);
  reads.length = 0; // the header reads
  return { ckpt, reads };
}

const R = 131; // odd rows x odd columns: the last 16-bit slice ends mid-word
const C = 63;

describe('loading a weight matrix in slices', () => {
  let gpu: Gpu;
  let bf16: Uint16Array;
  let f32: Float32Array;
  let file: Uint8Array;
  beforeAll(async () => {
    gpu = await testGpu();
    const v = randn(R * C, 7, 0.5);
    bf16 = new Uint16Array(R * C);
    for (let i = 0; i < v.length; i++) bf16[i] = f32ToBf16Bits(v[i]);
    bf16[100 * C + 5] = 0x7fc0; // NaN in row 100: a late slice
    f32 = randn(R * C, 11, 0.5);
    file = Buffer.concat(serializeSafetensors([
      { name: 'w.bf16', dtype: 'BF16', shape: [R, C], data: bf16 },
      { name: 'w.f32', dtype: 'F32', shape: [R, C], data: f32 },
    ]));
  });

  it('reads at most sliceBytes at a time and uploads exactly the checkpoint bytes', async () => {
    const slice = 2048;
    const { ckpt, reads } = await countingCheckpoint(file);
    const check = new FiniteCheck(gpu);
    const m = await uploadMatrix(gpu, ckpt, 'w.bf16', R, C, check, slice);
    expect(Math.max(...reads), `largest read of ${reads.length}`).toBeLessThanOrEqual(slice);
    expect(reads.reduce((a, b) => a + b, 0)).toBe(R * C * 2);
    expect(m.chunks).toHaveLength(1);
    const words = (await gpu.read(m.chunks[0].tensor)) as Uint32Array;
    expect(Buffer.from(words.buffer, 0, R * C * 2).equals(Buffer.from(bf16.buffer))).toBe(true);
    const bad = await check.read();
    expect(bad).toEqual([{ what: 'w.bf16', count: 1, first: 100 * C + 5, cols: C }]);
    for (const c of m.chunks) c.tensor.destroy();

    reads.length = 0;
    const f = await uploadMatrix(gpu, ckpt, 'w.f32', R, C, undefined, slice);
    expect(Math.max(...reads)).toBeLessThanOrEqual(slice);
    const got = await gpu.readF32(f.chunks[0].tensor);
    expect(Buffer.from(got.buffer).equals(Buffer.from(f32.buffer))).toBe(true);
    for (const c of f.chunks) c.tensor.destroy();
  });

  it("the plan's host estimate for a load is bounded by the slice, not the largest tensor", () => {
    const small = 3 * 1024 * 1024;
    // a 1 GiB embedding (Llama-3-8B) and a 2 GiB one (Aya-23-8B) cost what a 64 MiB one does
    expect(loadHostBytesOf(128256 * 4096 * 2)).toBe(loadHostBytesOf(LOAD_SLICE_BYTES));
    expect(loadHostBytesOf(256000 * 4096 * 2)).toBe(loadHostBytesOf(LOAD_SLICE_BYTES));
    expect(loadHostBytesOf(256000 * 4096 * 2)).toBeLessThan(256000 * 4096 * 2);
    expect(loadHostBytesOf(small)).toBeLessThan(loadHostBytesOf(LOAD_SLICE_BYTES));
  });
});
