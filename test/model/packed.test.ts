/**
 * 16-bit checkpoints stay packed on the GPU (two BF16/F16 values per u32 word, unpacked inside the
 * matmul and embedding kernels): the same numbers as the f32 path on the same values, half the
 * weight memory, pruned weights written back in the checkpoint's dtype.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Gpu } from '../../src/gpu/device';
import * as ops from '../../src/gpu/ops';
import { dirFolder } from '../../src/io/node';
import { openCheckpoint, openSafetensors, serializeSafetensors } from '../../src/io/safetensors';
import { pathSource } from '../../src/io/node';
import { loadModelConfig } from '../../src/io/config';
import { f32ToBf16Bits, f32ToF16Bits } from '../../src/io/dtypes';
import { LlamaModel, LINEAR_NAMES } from '../../src/model/llama';
import { pruneModel, type PruneModelOptions } from '../../src/prune/run';
import { testGpu, randn } from '../helpers/gpu';
import { FIXTURE, fixtureWindows, requireShared } from '../helpers/fixture';

type Windows = { ids: Int32Array; n: number; seqlen: number };

/** The first n windows of an `input_ids` file, cut to seqlen tokens each. */
async function windowsOf(file: string, n: number, seqlen: number): Promise<Windows> {
  const f = await openSafetensors(pathSource(file));
  const [N, S] = f.tensors.get('input_ids')!.shape;
  const all = await f.readI32('input_ids');
  await f.close();
  if (N < n || S < seqlen) throw new Error(`${file} holds ${N} x ${S} tokens, fewer than ${n} x ${seqlen}`);
  const ids = new Int32Array(n * seqlen);
  for (let i = 0; i < n; i++) ids.set(all.subarray(i * S, i * S + seqlen), i * seqlen);
  return { ids, n, seqlen };
}

function writeWindows(path: string, w: Windows): string {
  writeFileSync(path, Buffer.concat(serializeSafetensors([{ name: 'input_ids', dtype: 'I32', shape: [w.n, w.seqlen], data: w.ids }])));
  return path;
}

/**
 * tools/packed-reference/wanda_ref.py (numpy, float64) on a model folder: sequential Wanda masks and
 * the pruned model's perplexity on the eval windows.
 */
async function numpyWanda(model: string, calib: string, evalFile: string, sparsity: number): Promise<{ ppl: number; masks: Map<string, Int32Array> }> {
  const out = join(dir, `masks-${Math.random().toString(36).slice(2)}.safetensors`);
  const stdout = runPythonReference('Wanda', 'tools/packed-reference/wanda_ref.py', [model, calib, evalFile, String(sparsity), out]);
  const f = await openSafetensors(pathSource(out));
  const masks = new Map<string, Int32Array>();
  for (const name of f.tensors.keys()) masks.set(name.replace(/^mask\./, ''), await f.readI32(name));
  await f.close();
  return { ppl: JSON.parse(stdout).ppl, masks };
}

/** Engine Wanda on `model` with these windows against the float64 reference on the same folder. */
async function checkAgainstNumpy(path: string, calib: Windows, evalW: Windows, sparsity: number): Promise<void> {
  const ref = await numpyWanda(path, writeWindows(join(dir, 'calib.safetensors'), calib), writeWindows(join(dir, 'eval.safetensors'), evalW), sparsity);
  const model = await load(path);
  const weights = new Map<string, Float32Array>();
  await pruneModel(model, calib, { method: 'wanda', sparsity, onMatrixPruned: (i, name, w) => void weights.set(`model.layers.${i}.${name}.weight`, w) });
  expect(weights.size).toBe(ref.masks.size);
  const flips: string[] = [];
  for (const [t, mask] of ref.masks) {
    const w = weights.get(t)!;
    for (let e = 0; e < mask.length; e++) if ((w[e] !== 0 ? 1 : 0) !== mask[e]) flips.push(`${t}[${e}]`);
  }
  expect(flips.slice(0, 5), `${flips.length} mask entries differ from the float64 reference`).toEqual([]);
  const nll = await model.tokenNll(Array.from({ length: evalW.n }, (_, i) => evalW.ids.slice(i * evalW.seqlen, (i + 1) * evalW.seqlen)));
  const flat = nll.flatMap((x) => [...x]);
  const ppl = Math.exp(flat.reduce((a, b) => a + b, 0) / flat.length);
  expect(Math.abs(ppl - ref.ppl) / ref.ppl, `ppl ${ppl} vs float64 ${ref.ppl}`).toBeLessThan(1e-5);
}
import { write16BitCopies } from '../helpers/bf16';
import { runPythonReference } from '../helpers/pythonRef';

let gpu: Gpu;
let dir: string;
let fx: { packed: string; twin: string };
beforeAll(async () => {
  gpu = await testGpu();
  dir = mkdtempSync(join(tmpdir(), 'polyprune-packed-'));
  fx = await write16BitCopies(requireShared(FIXTURE), join(dir, 'stories260K'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const loaded: LlamaModel[] = [];
afterAll(async () => {
  for (const m of loaded) {
    m.destroy();
    await m.checkpoint.close();
  }
});

async function load(path: string): Promise<LlamaModel> {
  const folder = dirFolder(path);
  const m = await LlamaModel.load(gpu, await loadModelConfig(folder), await openCheckpoint(folder), { resident: true });
  loaded.push(m);
  return m;
}

async function evalNll(model: LlamaModel): Promise<Float32Array[]> {
  const { ids, n, seqlen } = await fixtureWindows('eval-en.safetensors');
  return model.tokenNll(Array.from({ length: n }, (_, i) => ids.slice(i * seqlen, (i + 1) * seqlen)));
}

async function pruned(model: LlamaModel, opts: PruneModelOptions): Promise<Map<string, Float32Array>> {
  const calib = await fixtureWindows('calib-en.safetensors');
  const weights = new Map<string, Float32Array>();
  await pruneModel(model, opts.method === 'magnitude' ? null : calib, { ...opts, onMatrixPruned: (i, name, w) => void weights.set(`model.layers.${i}.${name}.weight`, w) });
  return weights;
}

describe('pack16 / convert kernels', () => {
  it('round f32 to BF16 and F16 bitwise as the CPU (nearest even, ties, subnormals, overflow) and unpack exactly', async () => {
    const edge = [0, -0, 1, -1, 65504, 65520, 1e6, -1e6, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 2 ** -14, 5.960464477539063e-8, 1 + 2 ** -8, 1 + 3 * 2 ** -9, 1 + 2 ** -11, 1 + 3 * 2 ** -12, 3.4e38, -3.4e38, 1e-40, Infinity, -Infinity];
    const x = new Float32Array([...edge, ...randn(4097, 7, 3), ...randn(1000, 8, 1e-6)]);
    const n = x.length;
    const src = gpu.upload(x, [n], 'x');
    for (const [mode, f] of [['bf16', f32ToBf16Bits], ['f16', f32ToF16Bits]] as const) {
      const packed = gpu.tensor([Math.ceil(n / 2)], 'u32', 'packed');
      const back = gpu.tensor([n], 'f32', 'back');
      ops.pack16(gpu, src, packed, n, mode);
      ops.convert16(gpu, packed, back, n, mode);
      const words = (await gpu.read(packed)) as Uint32Array;
      const halves = new Uint16Array(words.buffer, words.byteOffset, n);
      const bad: string[] = [];
      for (let i = 0; i < n; i++) if (halves[i] !== f(x[i])) bad.push(`[${i}] ${x[i]}: gpu ${halves[i].toString(16)} cpu ${f(x[i]).toString(16)}`);
      expect(bad.slice(0, 5), `${mode}: ${bad.length} mismatches`).toEqual([]);
      // unpacking what was packed gives the 16-bit values; packing them again changes nothing
      const b = await gpu.readF32(back);
      const again = gpu.upload(b, [n], 'again');
      const packed2 = gpu.tensor([Math.ceil(n / 2)], 'u32', 'packed2');
      ops.pack16(gpu, again, packed2, n, mode);
      expect(await gpu.read(packed2)).toEqual(words);
      for (const t of [packed, back, again, packed2]) t.destroy();
    }
    src.destroy();
  });

  it('a packed matmul (scalar and vec4 loads, row chunks) is bitwise the f32 matmul of the same values', async () => {
    for (const [M, N, K] of [[33, 130, 64], [3, 9, 7]]) {
      const w32 = new Float32Array(randn(N * K, N + K, 2).map((v) => new Float32Array(new Uint32Array([f32ToBf16Bits(v) << 16]).buffer)[0]));
      const bits = new Uint16Array(N * K + ((N * K) % 2));
      for (let i = 0; i < N * K; i++) bits[i] = f32ToBf16Bits(w32[i]);
      const x = gpu.upload(randn(M * K, M, 1), [M, K], 'x');
      const wf = gpu.upload(w32, [N, K], 'w');
      // two row chunks of 64 rows (the upload's chunking) when N > 64
      const cut = N > 64 ? 64 : N;
      const pk = [gpu.uploadBytes(new Uint8Array(bits.buffer, 0, cut * K * 2)), ...(N > cut ? [gpu.uploadBytes(new Uint8Array(bits.buffer, cut * K * 2, (N - cut) * K * 2))] : [])];
      const packed: ops.ChunkedMatrix = { rows: N, cols: K, format: 'bf16', chunks: pk.map((t, c) => ({ tensor: t, rowStart: c * cut, rows: c === 0 ? cut : N - cut })) };
      const plain: ops.ChunkedMatrix = { rows: N, cols: K, chunks: [{ tensor: wf, rowStart: 0, rows: N }] };
      for (const tuning of [ops.MATMUL_SCALAR, undefined]) {
        const a = gpu.tensor([M, N], 'f32', 'a');
        const b = gpu.tensor([M, N], 'f32', 'b');
        ops.matmul(gpu, x, M, plain, a, { tuning });
        ops.matmul(gpu, x, M, packed, b, { tuning });
        expect(await gpu.readF32(b), `${M}x${N}x${K} ${tuning ? 'scalar' : 'tuned'}`).toEqual(await gpu.readF32(a));
        a.destroy();
        b.destroy();
      }
      for (const t of [x, wf, ...pk]) t.destroy();
    }
  });
});

describe('a BF16 copy of stories260K', () => {
  it('keeps half the weight bytes on the GPU and gives bitwise the perplexity of its f32 twin', async () => {
    const before = gpu.memory().liveBytes;
    const p = await load(fx.packed);
    const packedBytes = gpu.memory().liveBytes - before;
    const t = await load(fx.twin);
    const twinBytes = gpu.memory().liveBytes - before - packedBytes;
    // every matrix halves; the norm vectors stay f32
    expect(packedBytes / twinBytes).toBeGreaterThan(0.5);
    expect(packedBytes / twinBytes).toBeLessThan(0.51);
    expect(LlamaModel.gpuWeightBytes(p.checkpoint)).toBeLessThan(0.51 * LlamaModel.gpuWeightBytes(t.checkpoint));
    const a = await evalNll(p);
    const b = await evalNll(t);
    expect(a).toEqual(b);
    p.destroy();
    t.destroy();
  });

  // (Wanda is checked against the float64 reference below; magnitude 2:4 here, against the f32 path.)
  for (const opts of [{ method: 'magnitude', nm: { n: 2, m: 4 } }] as PruneModelOptions[]) {
    it(`${opts.method} ${opts.nm ? '2:4' : '50 %'}: pruned weights and masks bitwise those of the f32 twin, then the same perplexity`, async () => {
      const p = await load(fx.packed);
      const t = await load(fx.twin);
      const wp = await pruned(p, opts);
      const wt = await pruned(t, opts);
      expect(wp.size).toBe(5 * LINEAR_NAMES.length);
      for (const [name, w] of wt) expect(wp.get(name), name).toEqual(w);
      expect(await evalNll(p)).toEqual(await evalNll(t));
      p.destroy();
      t.destroy();
    });
  }

  it('Wanda 50 %: masks equal the float64 numpy reference on the same BF16 weights, perplexity within 1e-5', async () => {
    const calib = await fixtureWindows('calib-en.safetensors');
    const evalW = await fixtureWindows('eval-en.safetensors');
    await checkAgainstNumpy(fx.packed, calib, evalW, 0.5);
  });

  it('SparseGPT 50 %: the kept weights are written back as BF16 (nearest even) and the layer is 50 % sparse', async () => {
    const p = await load(fx.packed);
    const w = await pruned(p, { method: 'sparsegpt', sparsity: 0.5 });
    for (const [name, v] of w) {
      let zeros = 0;
      for (let i = 0; i < v.length; i++) {
        if (v[i] === 0) zeros++;
        const r = new Float32Array(new Uint32Array([f32ToBf16Bits(v[i]) << 16]).buffer)[0];
        if (r !== v[i]) throw new Error(`${name}[${i}] = ${v[i]} is not a BF16 value`);
      }
      expect(zeros / v.length, name).toBeGreaterThanOrEqual(0.5);
    }
    const nll = (await evalNll(p)).flatMap((x) => [...x]);
    expect(nll.every(Number.isFinite)).toBe(true);
    p.destroy();
  });
});

describe('a BF16 copy of the bundled model (public/models/polyprune-ml)', () => {
  it('Wanda 50 % with 2 x 128 calibration tokens: masks equal the float64 reference, perplexity within 1e-5', async () => {
    const bundled = 'public/models/polyprune-ml';
    const copy = await write16BitCopies(bundled, join(dir, 'polyprune-ml'), 'BF16', false);
    const calib = await windowsOf(join(bundled, 'eval-de.safetensors'), 2, 128);
    const evalW = await windowsOf(join(bundled, 'eval-en.safetensors'), 1, 128);
    await checkAgainstNumpy(copy.packed, calib, evalW, 0.5);
  });
});

describe('dtypes that cannot be kept packed', () => {
  it('FP8 and I8 weights are refused by name from the headers, before any weight is read', async () => {
    const { validateCheckpoint } = await import('../../src/io/config');
    const folder = dirFolder(fx.packed);
    const cfg = await loadModelConfig(folder);
    const ckpt = await openCheckpoint(folder);
    for (const dtype of ['F8_E4M3', 'I8'] as const) {
      const fake = { location: 'fp8-model', names: () => ckpt.names(), has: (n: string) => ckpt.has(n), info: (n: string) => (n.endsWith('q_proj.weight') ? { ...ckpt.info(n), dtype } : ckpt.info(n)) };
      expect(() => validateCheckpoint(cfg, fake)).toThrow(dtype === 'I8' ? /dtype I8, expected F32, F16 or BF16[\s\S]*8-bit weights cannot be kept packed/ : /dtype F8_E4M3, expected F32, F16 or BF16[\s\S]*F8_E4M3 \(FP8\) weights cannot be kept on the GPU as they are.*Use the model's BF16 or F16 release/);
    }
    await ckpt.close();
  });
});
