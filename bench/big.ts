/**
 * `npm run bench` section for the study's model sizes (issue 12):
 *  - roofline: the engine's matmul GFLOP/s against the adapter's measured FMA peak
 *    (shaders/util/fma_peak.wgsl), side by side;
 *  - one decoder layer of Llama-3-8B shape (C 4096, F 14336, H 32, Hkv 8, random BF16 weights made
 *    here, no download), pruned by Wanda and by SparseGPT through pruneModel: seconds for the layer,
 *    forward/scoring split, peak GPU memory. SparseGPT's 14336-wide down_proj Hessian takes the
 *    row-panel path on adapters with 128 MiB bindings.
 * Knobs (environment): BENCH_LAYER=8b|quarter (default: 8b on hardware adapters, quarter = C 1024,
 * F 3584, H 8, Hkv 2 on software ones, where the full shape takes hours), BENCH_LAYER_TOKENS=NxS
 * (default 128x2048 on hardware, 2x128 on software), BENCH_LAYER_METHODS=wanda,sparsegpt,
 * BENCH_MATMUL_TUNING=WGX,WGY,TK,VEC4 (the roofline's "after" configuration; default: the engine's).
 */
import { PolyPruneError } from '../src/common/errors';
import type { Gpu } from '../src/gpu/device';
import * as ops from '../src/gpu/ops';
import { parseModelConfig, expectedTensors } from '../src/io/config';
import type { Checkpoint, CheckpointTensorInfo } from '../src/io/safetensors';
import { LlamaModel } from '../src/model/llama';
import { pruneModel } from '../src/prune/run';
import type { BenchContext } from './sections';

const isSoftware = (gpu: Gpu): boolean => /llvmpipe|lavapipe|swiftshader|software/i.test(gpu.info.description);

/** Seconds per call of `fn` (dispatches only), doubling the calls per sync until a batch takes >= 200 ms. */
async function perCall(gpu: Gpu, fn: () => void, maxMs = 200): Promise<number> {
  fn();
  await gpu.sync(); // warm-up: pipeline compilation
  for (let k = 1; ; k *= 2) {
    const t0 = performance.now();
    for (let i = 0; i < k; i++) fn();
    await gpu.sync();
    const ms = performance.now() - t0;
    if (ms >= maxMs || k >= 1 << 14) return ms / k / 1000;
  }
}

async function roofline(gpu: Gpu): Promise<void> {
  const groups = 4096;
  const iters = isSoftware(gpu) ? 64 : 4096;
  const out = gpu.tensor([groups * 256], 'f32', 'fma.out');
  const peakS = await perCall(gpu, () => ops.fmaPeak(gpu, out, groups, iters));
  const peak = (16 * iters * groups * 256) / peakS / 1e9;
  out.destroy();
  const n = Number(process.env.BENCH_ROOFLINE_N ?? (isSoftware(gpu) ? 512 : 4096));
  const x = gpu.upload(new Float32Array(n * n).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5), [n, n]);
  const w = gpu.upload(new Float32Array(n * n).map((_, i) => ((i * 104729) % 997) / 997 - 0.5), [n, n]);
  const y = gpu.tensor([n, n]);
  const W = { rows: n, cols: n, chunks: [{ tensor: w, rowStart: 0, rows: n }] };
  // The scalar 64x64x16 kernel (before tuning) and the configuration the engine uses, side by side.
  // BENCH_MATMUL_TUNING=WGX,WGY,TK,VEC4 (e.g. 8,8,32,1) measures another configuration as "after".
  const knob = process.env.BENCH_MATMUL_TUNING ? process.env.BENCH_MATMUL_TUNING.split(',').map(Number) : undefined;
  const tuned = knob ? { WGX: knob[0], WGY: knob[1], TK: knob[2], VEC4: knob[3] === 1 } : ops.matmulTuning(gpu, n, 0);
  const rate = async (tuning: ops.MatmulTuning) => (2 * n ** 3) / (await perCall(gpu, () => ops.matmul(gpu, x, n, W, y, { tuning }))) / 1e9;
  const before = await rate(ops.MATMUL_SCALAR);
  const mm = await rate(tuned);
  [x, w, y].forEach((t) => t.destroy());
  const cfg = `${4 * tuned.WGY}x${4 * tuned.WGX} tile, TK ${tuned.TK}${tuned.VEC4 ? ', vec4 loads' : ''}`;
  console.log(
    `roofline: FMA peak ${peak.toFixed(1)} GFLOP/s | matmul ${n}^3 ${mm.toFixed(1)} GFLOP/s (${cfg}) | ratio ${(mm / peak).toFixed(2)} of peak | before tuning (scalar loads) ${before.toFixed(1)} GFLOP/s, ratio ${(before / peak).toFixed(2)}`,
  );
}

/** xorshift32 BF16 values in [-scale, scale). */
function randomBf16(n: number, seed: number, scale: number): Uint8Array<ArrayBuffer> {
  const out = new Uint16Array(n);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    f[0] = ((s / 4294967296) * 2 - 1) * scale;
    out[i] = u[0] >>> 16;
  }
  return new Uint8Array(out.buffer);
}

/** A one-layer checkpoint of random BF16 weights, generated when read (nothing on disk). */
function randomCheckpoint(config: Record<string, unknown>): Checkpoint {
  const cfg = parseModelConfig(config, 'bench config');
  const infos = new Map<string, CheckpointTensorInfo>();
  let off = 0;
  for (const t of expectedTensors(cfg)) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    infos.set(t.name, { name: t.name, dtype: 'BF16', shape: t.shape, byteOffset: off, byteLength: 2 * n, file: 'random' });
    off += 2 * n;
  }
  const info = (name: string): CheckpointTensorInfo => {
    const i = infos.get(name);
    if (!i) throw new PolyPruneError('CHECKPOINT_MISMATCH', `Missing tensor '${name}'`);
    return i;
  };
  let seed = 1;
  const readRaw = async (name: string) => {
    const i = info(name);
    const n = i.byteLength / 2;
    if (name.endsWith('norm.weight')) return new Uint8Array(new Uint16Array(n).fill(0x3f80).buffer); // 1.0
    return randomBf16(n, seed++, Math.sqrt(3 / i.shape[i.shape.length - 1]));
  };
  return {
    location: 'random weights',
    files: ['random'],
    metadata: {},
    names: () => [...infos.keys()],
    has: (n) => infos.has(n),
    info,
    readRaw,
    readF32: async () => {
      throw new PolyPruneError('INTERNAL', 'bench checkpoint: readF32 is not used');
    },
    readI32: async () => {
      throw new PolyPruneError('INTERNAL', 'bench checkpoint: readI32 is not used');
    },
    close: async () => undefined,
  };
}

async function oneLayer(gpu: Gpu): Promise<void> {
  const shape = process.env.BENCH_LAYER ?? (isSoftware(gpu) ? 'quarter' : '8b');
  const dims = shape === '8b' ? { C: 4096, F: 14336, H: 32, Hkv: 8 } : { C: 1024, F: 3584, H: 8, Hkv: 2 };
  const [n, S] = (process.env.BENCH_LAYER_TOKENS ?? (isSoftware(gpu) ? '2x128' : '128x2048')).split('x').map(Number);
  const config = {
    model_type: 'llama',
    hidden_size: dims.C,
    intermediate_size: dims.F,
    num_hidden_layers: 1,
    num_attention_heads: dims.H,
    num_key_value_heads: dims.Hkv,
    vocab_size: 1024,
    max_position_embeddings: 8192,
    rope_theta: 500000,
    tie_word_embeddings: true,
  };
  const ids = new Int32Array(n * S).map((_, i) => (i * 2654435761) % 1024 >>> 0);
  const label = `${shape === '8b' ? 'Llama-3-8B' : 'quarter Llama-3-8B'} layer (C ${dims.C}, F ${dims.F}, H ${dims.H}/${dims.Hkv}), ${n} x ${S} calibration tokens`;
  for (const spec of (process.env.BENCH_LAYER_METHODS ?? 'wanda,sparsegpt').split(',')) {
    const method = spec as 'wanda' | 'sparsegpt';
    const model = await LlamaModel.load(gpu, parseModelConfig(config, 'bench'), randomCheckpoint(config), { resident: true });
    const r = await pruneModel(model, { ids, n, seqlen: S }, { method, sparsity: 0.5 });
    model.destroy();
    const t = r.timings;
    console.log(
      `one decoder layer, ${method} unstructured 0.5, ${label}: ${(t.perLayerMs[0] / 1000).toFixed(2)} s | forward ${((100 * t.forwardMs) / t.totalMs).toFixed(0)}% scoring ${((100 * t.scoringMs) / t.totalMs).toFixed(0)}% | peak GPU ${(r.peakGpuBytes / 2 ** 30).toFixed(2)} GiB`,
    );
  }
}

export async function benchBig(ctx: BenchContext | Gpu): Promise<void> {
  const gpu = 'gpu' in ctx ? ctx.gpu : ctx;
  await roofline(gpu);
  if (process.env.BENCH_LAYER !== 'off') await oneLayer(gpu);
}
