/**
 * `npm run bench`: speed measured side by side in one run on this machine's adapter.
 * Prints ratios, never pass/fail: machines here are shared and noisy.
 * BENCH_ONLY=big: only the roofline and the 8B layer (bench/big.ts); BENCH_ONLY=eval: only the
 * matmul, forward and multiple-choice lines (context sharing before/after among them); BENCH_ONLY=mix:
 * only the calibration mixer (bench/mix.ts); BENCH_ONLY=decode: only token-by-token generation,
 * tiled matmul vs matvec (bench/decode.ts); BENCH_ONLY=spill: only the spill file's read-back against
 * memory (bench/spill.ts, no GPU work); BENCH_ONLY=sparsegpt: only SparseGPT's seconds by kernel for one
 * weight (bench/sparsegpt.ts; BENCH_SGPT=ROWSxD).
 */
import path from 'node:path';
import { Gpu } from '../src/gpu/device';
import { nodeGpu } from '../src/gpu/node';
import * as ops from '../src/gpu/ops';
import { refLinear } from '../src/model/reference';
import { LlamaModel } from '../src/model/llama';
import { dirFolder, pathSource } from '../src/io/node';
import { openCheckpoint, openSafetensors } from '../src/io/safetensors';
import { loadModelConfig } from '../src/io/config';
import { benchSections } from './sections';
import { benchBig } from './big';

function rand(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
}

async function timeIt(fn: () => Promise<void>, minMs = 1500, maxReps = 50): Promise<number> {
  await fn(); // warm-up (pipeline compilation)
  const t0 = performance.now();
  let reps = 0;
  while (reps < maxReps && (reps === 0 || performance.now() - t0 < minMs)) {
    await fn();
    reps++;
  }
  return (performance.now() - t0) / reps;
}

async function benchMatmul(gpu: Gpu, n: number): Promise<void> {
  const x = rand(n * n, 1);
  const w = rand(n * n, 2);
  const tx = gpu.upload(x, [n, n]);
  const tw = gpu.upload(w, [n, n]);
  const ty = gpu.tensor([n, n]);
  const W = { rows: n, cols: n, chunks: [{ tensor: tw, rowStart: 0, rows: n }] };
  const gpuMs = await timeIt(async () => {
    ops.matmul(gpu, tx, n, W, ty);
    await gpu.sync();
  });
  const cpuN = Math.min(n, 256);
  const cpuMs = await timeIt(async () => {
    refLinear(x.subarray(0, cpuN * cpuN), cpuN, cpuN, w.subarray(0, cpuN * cpuN), cpuN);
  }, 500, 5);
  const gpuGflops = (2 * n ** 3) / (gpuMs * 1e6);
  const cpuGflops = (2 * cpuN ** 3) / (cpuMs * 1e6);
  console.log(`matmul ${n}x${n}x${n}: WGSL ${gpuGflops.toFixed(2)} GFLOP/s | plain TypeScript (${cpuN}^3) ${cpuGflops.toFixed(2)} GFLOP/s | ratio ${(gpuGflops / cpuGflops).toFixed(1)}x`);
  [tx, tw, ty].forEach((t) => t.destroy());
}

async function main(): Promise<void> {
  const shared = path.resolve(process.cwd(), '../shared/fixtures/stories260K');
  const gpu = await Gpu.create(await nodeGpu(), { politeWait: true });
  console.log(`adapter: ${gpu.info.description} | shader-f16 ${gpu.info.features.shaderF16} | max binding ${(gpu.info.limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB`);
  if (process.env.BENCH_ONLY === 'big') {
    // tools/gpu-bench: only the roofline and the 8B layer (no ../shared fixtures needed).
    await benchBig(gpu);
    gpu.destroy();
    return;
  }
  if (process.env.BENCH_ONLY === 'mix') {
    const { benchMix } = await import('./mix');
    await benchMix({ gpu, model: null as unknown as LlamaModel, fixtureDir: shared, timeIt });
    gpu.destroy();
    return;
  }
  if (process.env.BENCH_ONLY === 'spill') {
    const { benchSpill } = await import('./spill');
    await benchSpill();
    gpu.destroy();
    return;
  }
  if (process.env.BENCH_ONLY === 'sparsegpt') {
    const { benchSparsegpt } = await import('./sparsegpt');
    await benchSparsegpt(gpu);
    gpu.destroy();
    return;
  }
  if (process.env.BENCH_ONLY === 'decode') {
    const { benchDecode } = await import('./decode');
    await benchDecode({ gpu, model: null as unknown as LlamaModel, fixtureDir: shared, timeIt });
    gpu.destroy();
    return;
  }
  const sizes = (process.env.BENCH_MATMUL ?? '256,512').split(',').map(Number);
  for (const n of sizes) await benchMatmul(gpu, n);

  const folder = dirFolder(shared);
  const cfg = await loadModelConfig(folder);
  const model = await LlamaModel.load(gpu, cfg, await openCheckpoint(folder));
  const ev = await openSafetensors(pathSource(path.join(shared, 'eval-en.safetensors')));
  const ids = await ev.readI32('input_ids');
  const seqs = [0, 1, 2, 3].map((i) => ids.slice(i * 64, i * 64 + 64));
  const ms = await timeIt(async () => {
    await model.tokenNll(seqs);
  });
  console.log(`forward (stories260K, 4 x 64 tokens, NLL on GPU): ${((4 * 64) / (ms / 1000)).toFixed(0)} tokens/s (${ms.toFixed(1)} ms per batch)`);
  // Multiple-choice scoring throughput (lm-eval semantics), bundled UDHR English task, 4 choices per item.
  const { readFileSync } = await import('node:fs');
  const { loadTokenizerFromFolder } = await import('../src/io/tokenizer');
  const { runTask } = await import('../src/eval/run');
  const tokenizer = await loadTokenizerFromFolder(folder);
  const udhr = readFileSync(path.resolve('public/data/udhr/en.json'), 'utf8');
  const { gpuScorer } = await import('../src/engine/perplexity');
  const scorer = gpuScorer(model);
  const items = 40;
  const taskMs = await timeIt(async () => {
    await runTask({ task: 'udhr', text: udhr, tokenizer, scorer, limit: items });
  }, 1500, 5);
  console.log(`multiple choice (UDHR en, ${items} items x 4 choices): ${((items * 4) / (taskMs / 1000)).toFixed(0)} scored choices/s`);
  // Context sharing (issue 12): the same requests scored whole and with each shared context run once.
  // tokens/s counts the tokens of the whole sequences (the work lm-eval asks for) in both columns.
  const { parseTask } = await import('../src/eval/tasks/index');
  const { computeLoglikelihoods } = await import('../src/eval/loglikelihood');
  for (const [name, task, text, language] of [
    ['UDHR en', 'udhr', udhr, undefined],
    ['XCOPA it', 'xcopa', readFileSync(path.resolve(shared, '../../data/tasks/xcopa/data/it/test.it.jsonl'), 'utf8'), 'it'],
  ] as const) {
    const reqs = parseTask(task, text, { language }).items.slice(0, items).flatMap((it) => it.requests);
    const runs: Record<string, Awaited<ReturnType<typeof computeLoglikelihoods>>> = {};
    const ms: Record<string, number> = {};
    for (const share of [false, true]) {
      ms[String(share)] = await timeIt(async () => {
        runs[String(share)] = await computeLoglikelihoods(reqs, tokenizer, scorer, { shareContext: share });
      }, 1500, 5);
    }
    const work = runs.false.forwardTokens;
    const rate = (share: boolean) => (work / (ms[String(share)] / 1000)).toFixed(0);
    console.log(
      `forward tokens/s before/after context sharing (${name}, ${items} items, ${reqs.length} requests): ${rate(false)} -> ${rate(true)} tokens/s (${(ms.false / ms.true).toFixed(2)}x) | tokens run ${work} -> ${runs.true.forwardTokens} (${runs.true.sharedContexts} shared contexts)`,
    );
  }
  if (process.env.BENCH_ONLY === 'eval') {
    // Only the matmul, forward and scoring lines above.
    model.destroy();
    gpu.destroy();
    return;
  }
  // Pruning on the fixture: seconds per layer per method, share of time in forwards vs scoring.
  const { pruneModel } = await import('../src/prune/run');
  const cal = await openSafetensors(pathSource(path.join(shared, 'calib-en.safetensors')));
  const calib = { ids: await cal.readI32('input_ids'), n: 16, seqlen: 64 };
  for (const [method, opts] of [
    ['magnitude', { sparsity: 0.5 }],
    ['wanda', { sparsity: 0.5 }],
    ['wanda', { nm: { n: 2, m: 4 } }],
    ['sparsegpt', { sparsity: 0.5 }],
    ['sparsegpt', { nm: { n: 2, m: 4 } }],
    // the same runs with the per-matrix reconstruction error measured (issue 8): its cost side by side
    ['wanda', { sparsity: 0.5, reconstructionError: true }],
    ['sparsegpt', { sparsity: 0.5, reconstructionError: true }],
  ] as const) {
    const reps: number[] = [];
    let last: Awaited<ReturnType<typeof pruneModel>> | undefined;
    for (let r = 0; r < 3; r++) {
      const work = await LlamaModel.load(gpu, cfg, await openCheckpoint(folder));
      last = await pruneModel(work, method === 'magnitude' ? null : calib, { method, ...opts });
      reps.push(last.timings.totalMs);
      work.destroy();
    }
    const t = last!.timings;
    const per = Math.min(...reps) / cfg.numLayers / 1000;
    const structure = ('nm' in opts ? '2:4' : 'unstructured 0.5') + ('reconstructionError' in opts ? ' + reconstruction error' : '');
    console.log(`prune ${method} ${structure} (stories260K, 16 x 64 calibration tokens): ${per.toFixed(3)} s/layer | forward ${((100 * t.forwardMs) / t.totalMs).toFixed(0)}% scoring ${((100 * t.scoringMs) / t.totalMs).toFixed(0)}% | peak GPU ${(last!.peakGpuBytes / 2 ** 20).toFixed(1)} MiB`);
  }
  for (const section of benchSections) await section({ gpu, model, fixtureDir: shared, timeIt });
  model.destroy();
  gpu.destroy();
}

await main();
