import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync, mkdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Gpu } from '../../src/gpu/device';
import { LlamaModel } from '../../src/model/llama';
import { pruneModel, type PruneModelOptions } from '../../src/prune/run';
import { exportHfCheckpoint, PrunedTensors, pruningRecord, f32ToBf16Bits, f32ToF16Bits, memorySink, COPIED_FILES } from '../../src/export/hf';
import { nodeOutputSink, checkOutputFree } from '../../src/export/node';
import { writeWholeFile } from '../../src/export/sink';
import { f16BitsToNumber } from '../../src/io/dtypes';
import { dirFolder, pathSource } from '../../src/io/node';
import { openCheckpoint, openSafetensors, safetensorsBytes, type Checkpoint } from '../../src/io/safetensors';
import { loadModelConfig } from '../../src/io/config';
import { testGpu } from '../helpers/gpu';
import { FIXTURE, requireShared, fixtureWindows } from '../helpers/fixture';

let gpu: Gpu;
let tmp: string;
beforeAll(async () => {
  gpu = await testGpu();
  tmp = mkdtempSync(path.join(tmpdir(), 'polyprune-export-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Prune the model in `dir` and export it to `out`; returns the sink's destination. */
async function pruneAndExport(dir: string, out: string, opts: PruneModelOptions, signalAt?: AbortController): Promise<void> {
  const folder = dirFolder(dir);
  const cfg = await loadModelConfig(folder);
  const ckpt = await openCheckpoint(folder);
  const sink = await nodeOutputSink(out);
  const model = await LlamaModel.load(gpu, cfg, ckpt, { resident: false });
  const calib = opts.method === 'magnitude' ? null : await fixtureWindows('calib-en.safetensors');
  const pruned = new PrunedTensors(ckpt);
  try {
    const report = await pruneModel(model, calib, { ...opts, onMatrixPruned: (i, n, w) => pruned.add(`model.layers.${i}.${n}.weight`, w) });
    const record = await pruningRecord({ report, options: opts, calibration: calib && { ...calib, seed: 0 }, modelSource: 'stories260K', modelType: cfg.modelType, toolVersion: '0.1.0-test' });
    await exportHfCheckpoint({ source: folder, checkpoint: ckpt, pruned, record, sink, signal: signalAt?.signal });
  } catch (e) {
    await sink.abort();
    throw e;
  } finally {
    model.destroy();
    await ckpt.close();
  }
}

function digestDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir).sort()) out[f] = createHash('sha256').update(readFileSync(path.join(dir, f))).digest('hex');
  return out;
}

describe('16-bit rounding (round to nearest even)', () => {
  it('every finite f16 and bf16 value round-trips; midpoints go to even; overflow to infinity', () => {
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    const bad: string[] = [];
    const check = (what: string, got: number, want: number) => {
      if (got !== want) bad.push(`${what}: got 0x${got.toString(16)} want 0x${want.toString(16)}`);
    };
    for (let h = 0; h < 65536; h++) {
      if ((h & 0x7c00) !== 0x7c00 || !(h & 0x3ff)) {
        const v = f16BitsToNumber(h);
        check(`f16 ${h}`, f32ToF16Bits(v), h);
        if ((h & 0x7fff) < 0x7bff) {
          const mid = (v + f16BitsToNumber(h + 1)) / 2; // exact in f32
          check(`f16 mid ${h}`, f32ToF16Bits(mid), h & 1 ? h + 1 : h);
          check(`f16 above mid ${h}`, f32ToF16Bits(mid * (1 + 1e-6)), h + 1);
        }
      }
      u32[0] = h << 16;
      if (Number.isNaN(f32[0])) continue;
      check(`bf16 ${h}`, f32ToBf16Bits(f32[0]), h);
      if ((h & 0x7fff) < 0x7f7f) {
        u32[0] = (h << 16) | 0x8000; // exact midpoint to the next bf16
        check(`bf16 mid ${h}`, f32ToBf16Bits(f32[0]), h & 1 ? h + 1 : h);
        u32[0] = (h << 16) | 0x8001;
        check(`bf16 above mid ${h}`, f32ToBf16Bits(f32[0]), h + 1);
      }
    }
    expect(bad.slice(0, 5)).toEqual([]);
    expect(f32ToF16Bits(65520)).toBe(0x7c00);
    expect(f32ToF16Bits(65519.99)).toBe(0x7bff);
    expect(f32ToF16Bits(2 ** -25)).toBe(0); // tie between 0 and the smallest subnormal -> 0 (even)
    expect(f32ToF16Bits(2 ** -25 * 1.0001)).toBe(1);
    expect(f32ToF16Bits(-0)).toBe(0x8000);
    expect(f32ToF16Bits(NaN) & 0x7e00).toBe(0x7e00);
    expect(f32ToBf16Bits(NaN) & 0x7fc0).toBe(0x7fc0);
  });
});

describe('HF export', () => {
  it('writes config, tokenizer files, all tensors (pruned replaced) and pruning.json; bitwise identical across runs', async () => {
    const a = path.join(tmp, 'wanda-a');
    const b = path.join(tmp, 'wanda-b');
    await pruneAndExport(FIXTURE, a, { method: 'wanda', sparsity: 0.5 });
    await pruneAndExport(FIXTURE, b, { method: 'wanda', sparsity: 0.5 });
    expect(digestDir(a)).toEqual(digestDir(b));
    expect(readdirSync(a).sort()).toEqual(['config.json', 'pruning.json', 'recipe.yaml', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'LICENSE'].sort());
    expect(readdirSync(tmp).filter((f) => f.includes('.partial-'))).toEqual([]);
    expect(readFileSync(path.join(a, 'config.json'))).toEqual(readFileSync(path.join(FIXTURE, 'config.json')));
    expect(readFileSync(path.join(a, 'tokenizer.json'))).toEqual(readFileSync(path.join(FIXTURE, 'tokenizer.json')));
    // All 47 tensors, same dtypes and shapes; the 35 pruned ones equal the reference variant.
    const out = await openSafetensors(pathSource(path.join(a, 'model.safetensors')));
    const src = await openSafetensors(pathSource(requireShared(path.join(FIXTURE, 'model.safetensors'))));
    const ref = await openSafetensors(pathSource(path.join(FIXTURE, 'wanda-unstructured-0.5-en.safetensors')));
    expect([...out.tensors.keys()]).toEqual([...src.tensors.keys()]);
    expect(out.metadata).toEqual({ format: 'pt' });
    for (const [name, info] of src.tensors) {
      const o = out.tensors.get(name)!;
      expect([o.dtype, o.shape]).toEqual([info.dtype, info.shape]);
      const want = ref.tensors.has(name) ? await ref.readRaw(name) : await src.readRaw(name);
      expect(Buffer.from(await out.readRaw(name)).equals(Buffer.from(want)), name).toBe(true);
    }
    for (const f of [out, src, ref]) await f.close();
    const rec = JSON.parse(readFileSync(path.join(a, 'pruning.json'), 'utf8'));
    expect(rec).toMatchObject({ method: 'wanda', structure: 'unstructured', sparsity_ratio: 0.5, nm: null, overall_sparsity: 0.5, tool: { name: 'polyprune', version: '0.1.0-test' }, model: { source: 'stories260K', model_type: 'llama' } });
    expect(rec.calibration).toMatchObject({ seed: 0, nsamples: 16, seqlen: 64 });
    expect(rec.calibration.ids_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(rec.per_matrix).toHaveLength(35);
    expect(rec.per_matrix[0]).toEqual({ tensor: 'model.layers.0.self_attn.q_proj.weight', shape: [64, 64], zeros: 2048, numel: 4096, sparsity: 0.5 });
    expect(rec).not.toHaveProperty('created_at');
    expect(COPIED_FILES).toContain('tokenizer.json');
  });

  it('keeps a BF16 source BF16: kept weights byte-identical, pruned exactly 0 (magnitude, 2:4)', async () => {
    // A bf16 copy of the fixture model.
    const dir = path.join(tmp, 'bf16-src');
    mkdirSync(dir);
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(path.join(FIXTURE, f), path.join(dir, f));
    const src = await openSafetensors(pathSource(path.join(FIXTURE, 'model.safetensors')));
    const tensors = [];
    for (const [name, info] of src.tensors) {
      const v = await src.readF32(name);
      tensors.push({ name, dtype: 'BF16' as const, shape: info.shape, data: Uint16Array.from(v, f32ToBf16Bits) });
    }
    await src.close();
    writeFileSync(path.join(dir, 'model.safetensors'), safetensorsBytes(tensors));
    const out = path.join(tmp, 'bf16-out');
    await pruneAndExport(dir, out, { method: 'magnitude', nm: { n: 2, m: 4 } });
    const o = await openSafetensors(pathSource(path.join(out, 'model.safetensors')));
    for (const t of tensors) {
      expect(o.tensors.get(t.name)!.dtype).toBe('BF16');
      const got = new Uint16Array((await o.readRaw(t.name)).slice().buffer);
      let zeros = 0;
      for (let i = 0; i < got.length; i++) {
        if (got[i] === 0) zeros++;
        else expect(got[i]).toBe(t.data[i]);
      }
      if (t.name.includes('_proj')) expect(zeros).toBe(got.length / 2);
      else expect(zeros).toBe(0);
    }
    await o.close();
  });

  it('reads and writes each tensor in slices (issue 22): the same files, no read above the slice, pruned tensors sliced too', async () => {
    const folder = dirFolder(FIXTURE);
    const ckpt = await openCheckpoint(folder);
    const reads: number[] = [];
    const counted: Checkpoint = {
      ...ckpt,
      readRaw: async (n) => {
        const b = await ckpt.readRaw(n);
        reads.push(b.byteLength);
        return b;
      },
      readRawRange: (n, start, length) => {
        reads.push(length);
        return ckpt.readRawRange!(n, start, length);
      },
    };
    const pruned = new PrunedTensors(ckpt);
    const q = await ckpt.readF32('model.layers.0.self_attn.q_proj.weight');
    await pruned.add('model.layers.0.self_attn.q_proj.weight', q.map((v, i) => (i % 2 ? 0 : v)));
    const writes: number[] = []; // model.safetensors' writes, header first
    let file = '';
    const whole = memorySink();
    const sliced = memorySink();
    const [begin, write] = [sliced.beginFile.bind(sliced), sliced.write.bind(sliced)];
    sliced.beginFile = (name, size) => ((file = name), begin(name, size));
    sliced.write = (chunk) => (file === 'model.safetensors' && writes.push(chunk.byteLength), write(chunk));
    await exportHfCheckpoint({ source: folder, checkpoint: ckpt, pruned, sink: whole, sliceBytes: 2 ** 30 });
    const slice = 1000;
    await exportHfCheckpoint({ source: folder, checkpoint: counted, pruned, sink: sliced, sliceBytes: slice });
    await ckpt.close();
    expect([...sliced.files.keys()].sort()).toEqual([...whole.files.keys()].sort());
    for (const [name, bytes] of whole.files) expect(Buffer.from(sliced.files.get(name)!).equals(Buffer.from(bytes)), name).toBe(true);
    // the 512 x 64 f32 embedding (131 KB) is read in 132 ranges; no read and no tensor write above the slice
    expect(Math.max(...reads)).toBeLessThanOrEqual(slice);
    expect(reads.filter((r) => r === slice).length).toBeGreaterThan(131);
    expect(Math.max(...writes.slice(1))).toBeLessThanOrEqual(slice);
    expect(writes.reduce((a, b) => a + b, 0)).toBe(whole.files.get('model.safetensors')!.byteLength);
  });

  it('an existing output folder is refused before any work (OUTPUT_EXISTS)', async () => {
    const out = path.join(tmp, 'exists');
    mkdirSync(out);
    await expect(checkOutputFree(out)).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
    await expect(nodeOutputSink(out)).rejects.toMatchObject({ code: 'OUTPUT_EXISTS', message: expect.stringContaining(out) });
  });

  it('cancellation during the export leaves nothing at the destination', async () => {
    const out = path.join(tmp, 'cancelled');
    const ac = new AbortController();
    ac.abort();
    await expect(pruneAndExport(FIXTURE, out, { method: 'magnitude', sparsity: 0.5 }, ac)).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmp).filter((f) => f.includes('.partial-'))).toEqual([]);
  });

  it('memorySink only shows files after commit', async () => {
    const s = memorySink();
    await writeWholeFile(s, 'a', [new Uint8Array([1, 2]), new Uint8Array([3])]);
    expect(s.files.size).toBe(0);
    await s.commit();
    expect(Array.from(s.files.get('a')!)).toEqual([1, 2, 3]);
  });
});
