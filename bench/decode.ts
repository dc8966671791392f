/**
 * Token-by-token generation: tokens per second with decode steps through the tiled 64 x 64 matmul
 * (LlamaModel.decodeKernel 'tiled', the path before nn/matvec) and through nn/matvec, side by side in
 * one run, greedy (one sequence, as `polyprune generate` and the page's Try it) and a sampled batch
 * (as self-generated calibration text, 8 sequences), on stories260K, the bundled model and a BF16
 * copy of it (packed weights). Then where one decode step's time goes on this adapter: each kernel of
 * a step timed alone at the bundled model's decode shapes (repeated in one submit), old and new.
 * BENCH_ONLY=decode runs only this section.
 */
import path from 'node:path';
import { existsSync, mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { BenchContext } from './sections';
import type { LlamaModel as LlamaModelT } from '../src/model/llama';

export async function benchDecode(ctx: BenchContext): Promise<void> {
  const { LlamaModel } = await import('../src/model/llama');
  const { dirFolder } = await import('../src/io/node');
  const { openCheckpoint, serializeSafetensors } = await import('../src/io/safetensors');
  const { loadModelConfig } = await import('../src/io/config');
  const { encode16 } = await import('../src/io/dtypes');
  const { generateTokens, generateBatch, DEFAULT_SAMPLING } = await import('../src/model/generate');
  const { PyRandom } = await import('../src/calib/random');
  const ops = await import('../src/gpu/ops');
  const { gpu, timeIt } = ctx;
  const n = Number(process.env.BENCH_DECODE_TOKENS ?? 32);

  const bundled = path.resolve('public/models/polyprune-ml');
  const models: [string, string][] = [['stories260K', ctx.fixtureDir]];
  let tmp: string | null = null;
  if (existsSync(path.join(bundled, 'config.json'))) {
    models.push(['polyprune-ml', bundled]);
    // A BF16 copy of the bundled model: its matrices stay packed on the GPU.
    tmp = mkdtempSync(path.join(tmpdir(), 'polyprune-bench-decode-'));
    const ckpt = await openCheckpoint(dirFolder(bundled));
    const tensors = [];
    for (const name of ckpt.names()) tensors.push({ name, dtype: 'BF16' as const, shape: ckpt.info(name).shape, data: encode16(await ckpt.readF32(name), 'bf16').subarray(0, ckpt.info(name).shape.reduce((a, b) => a * b, 1)) });
    await ckpt.close();
    writeFileSync(path.join(tmp, 'model.safetensors'), Buffer.concat(serializeSafetensors(tensors)));
    copyFileSync(path.join(bundled, 'config.json'), path.join(tmp, 'config.json'));
    models.push(['polyprune-ml bf16', tmp]);
  }
  try {
    for (const [name, dir] of models) {
      if (process.env.BENCH_DECODE_MODELS && !process.env.BENCH_DECODE_MODELS.split(',').includes(name)) continue;
      const folder = dirFolder(dir);
      const cfg = await loadModelConfig(folder);
      const ckpt = await openCheckpoint(folder);
      const model = await LlamaModel.load(gpu, cfg, ckpt);
      const prompt = Int32Array.of(cfg.bosTokenId ?? 1, 400, 401, 402);
      const o = { maxNewTokens: n, eos: new Set<number>() };
      const rate: Record<string, number> = {};
      const perToken: Record<string, number> = {};
      const tokens: Record<string, string> = {};
      const batchRate: Record<string, number> = {};
      for (const kernel of process.env.BENCH_DECODE_PROFILE_ONLY ? [] : (['tiled', 'matvec'] as const)) {
        model.decodeKernel = kernel;
        const before = Object.values(gpu.dispatches()).reduce((a, b) => a + b, 0);
        const r = await generateTokens(model, prompt, new PyRandom(0), { ...o, sampling: DEFAULT_SAMPLING });
        perToken[kernel] = (Object.values(gpu.dispatches()).reduce((a, b) => a + b, 0) - before) / n;
        tokens[kernel] = Array.from(r.tokens).join(',');
        const ms = await timeIt(async () => {
          await generateTokens(model, prompt, new PyRandom(0), { ...o, sampling: DEFAULT_SAMPLING });
        }, 3000, 5);
        rate[kernel] = n / (ms / 1000);
        const B = 8;
        const sampling = { temperature: 0.8, topK: 50, topP: 0.95, seed: 0, repetitionPenalty: 1.1 };
        const bms = await timeIt(async () => {
          await generateBatch(model, prompt, { ...o, sampling, rngs: Array.from({ length: B }, (_, j) => new PyRandom(j)) });
        }, 3000, 3);
        batchRate[kernel] = (B * n) / (bms / 1000);
      }
      model.decodeKernel = 'matvec';
      if (!process.env.BENCH_DECODE_PROFILE_ONLY) console.log(
        `generate ${name} (${prompt.length}-token prompt + ${n} new, greedy, 1 sequence): tiled matmul ${rate.tiled.toFixed(1)} -> matvec ${rate.matvec.toFixed(1)} tokens/s (${(rate.matvec / rate.tiled).toFixed(2)}x)` +
          ` | batch of 8 sampled: ${batchRate.tiled.toFixed(1)} -> ${batchRate.matvec.toFixed(1)} tokens/s (${(batchRate.matvec / batchRate.tiled).toFixed(2)}x)` +
          ` | ${perToken.matvec.toFixed(0)} dispatches per token | same greedy tokens: ${tokens.tiled === tokens.matvec ? 'yes' : 'NO'}`,
      );
      if (name === 'polyprune-ml') await profileStep(model);
      model.destroy();
      await ckpt.close();
    }
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }

  /** One decode step's kernels at this model's shapes, each timed alone (reps in one submit), old and new. */
  async function profileStep(model: LlamaModelT): Promise<void> {
    const { hiddenSize: C, numHeads: H, numKvHeads: Hkv, headDim: D, vocabSize: V, numLayers: L, rmsNormEps } = model.cfg;
    const P = Math.min(128, model.cfg.maxPositionEmbeddings - 1); // cached tokens attended
    const layer = await model.layer(0);
    const reps = 20;
    const x = gpu.upload(Float32Array.from({ length: Math.max(C, H * D, model.cfg.intermediateSize) }, (_, i) => Math.sin(i)), [1, Math.max(C, H * D, model.cfg.intermediateSize)]);
    const out = gpu.tensor([1, Math.max(V, model.cfg.intermediateSize)], 'f32', 'bench.out');
    const time = async (f: () => void) => (await timeIt(async () => {
      for (let r = 0; r < reps; r++) f();
      await gpu.sync();
    }, 1000, 10)) / reps;
    const rows: [string, number, number][] = [];
    const sum = { tiled: 0, matvec: 0 };
    for (const [what, m, count] of [
      ...Object.entries(layer.linears).map(([k, m]) => [k, m, L] as const),
      ['lm_head', model.head, 1] as const,
    ]) {
      const xs = { tensor: x, offsetElems: 0, numElems: m.cols };
      const tiled = await time(() => ops.matmul(gpu, xs, 1, m, out));
      const fast = await time(() => ops.matvec(gpu, xs, 1, m, out));
      rows.push([`${what} ${m.rows}x${m.cols}${count > 1 ? ` x${count}` : ''}`, tiled * count, fast * count]);
      sum.tiled += tiled * count;
      sum.matvec += fast * count;
    }
    // Attention of one query over P cached tokens (+ itself), the other per-layer kernels, and the step's fixed costs.
    const q = gpu.tensor([1, H * D]);
    const k1 = gpu.tensor([1, Hkv * D]);
    const v1 = gpu.tensor([1, Hkv * D]);
    const att = gpu.tensor([1, H * D]);
    const kc = gpu.tensor([P, Hkv * D]);
    const vc = gpu.tensor([P, Hkv * D]);
    const meta = gpu.upload(Uint32Array.of(0, P), [2], 'meta');
    const other: [string, number][] = [];
    other.push([`attention (1 query, ${P} cached) x${L}`, L * (await time(() => ops.attention(gpu, q, k1, v1, att, 1, 1, H, Hkv, D, { k: kc, v: vc, meta, maxPrefix: P })))]);
    const h = gpu.tensor([1, C]);
    other.push([`rmsnorm x${2 * L + 1}`, (2 * L + 1) * (await time(() => ops.rmsnorm(gpu, h, layer.inputNorm, att, 1, C, rmsNormEps)))]);
    const sync = await timeIt(async () => {
      gpu.copy(h, 0, att, 0, C);
      await gpu.readF32(out, 0, V);
    }, 1000, 50);
    other.push(['one submit + logits read back', sync]);
    console.log(`  decode step profile (polyprune-ml, each kernel alone, ${reps} per submit; ms per step: tiled -> matvec):`);
    for (const [what, a, b] of rows) console.log(`    ${what}: ${a.toFixed(3)} -> ${b.toFixed(3)} ms (${(a / b).toFixed(1)}x)`);
    console.log(`    all linear layers + head: ${sum.tiled.toFixed(2)} -> ${sum.matvec.toFixed(2)} ms`);
    for (const [what, t] of other) console.log(`    ${what}: ${t.toFixed(3)} ms`);
    for (const t of [x, out, q, k1, v1, att, kc, vc, meta, h]) t.destroy();
  }
}
