/**
 * The calibration mixer (issue 13): time per slider update (mix the per-window statistics, restore the
 * dense weights, re-mask, count zeros: no forward pass) against the one collection pass and a full
 * sequential Wanda prune, on the fixture and on the bundled default model (public/models/polyprune-ml).
 * The same for SparseGPT (mix the per-source Hessians, restore, SparseGPT solve per matrix); BENCH_MIX_MODELS
 * (e.g. 'stories260K') limits the models.
 */
import path from 'node:path';
import { existsSync } from 'node:fs';
import type { BenchContext } from './sections';

export async function benchMix(ctx: BenchContext): Promise<void> {
  const { LlamaModel } = await import('../src/model/llama');
  const { dirFolder, pathSource } = await import('../src/io/node');
  const { openCheckpoint, openSafetensors } = await import('../src/io/safetensors');
  const { loadModelConfig } = await import('../src/io/config');
  const { collectDenseStats, freeDenseStats, mixPruneModel } = await import('../src/prune/mix');
  const { pruneModel } = await import('../src/prune/run');
  const { collectDenseHessians, freeDenseHessians, mixSparsegptModel } = await import('../src/prune/mixHessian');
  const only = process.env.BENCH_MIX_MODELS?.split(',');
  const cal = await openSafetensors(pathSource(path.join(ctx.fixtureDir, 'calib-en.safetensors')));
  const en = await cal.readI32('input_ids');
  await cal.close();
  const dirs: [string, string, number, number][] = [['stories260K', ctx.fixtureDir, 16, 64]];
  const bundled = path.resolve('public/models/polyprune-ml');
  if (existsSync(path.join(bundled, 'config.json'))) dirs.push(['polyprune-ml', bundled, 16, 128]);
  for (const [name, dir, n, S] of dirs) {
    if (only && !only.includes(name)) continue;
    const folder = dirFolder(dir);
    const cfg = await loadModelConfig(folder);
    const ckpt = await openCheckpoint(folder);
    const base = await LlamaModel.load(ctx.gpu, cfg, ckpt, { resident: true });
    const slot = await LlamaModel.load(ctx.gpu, cfg, ckpt, { resident: true, shareFrom: base });
    // two sources of n windows each: random ids (the timing does not depend on the text)
    const ids = new Int32Array(2 * n * S);
    for (let i = 0; i < ids.length; i++) ids[i] = name === 'stories260K' && i < en.length ? en[i] : (i * 7919) % cfg.vocabSize;
    const t0 = performance.now();
    const stats = await collectDenseStats(base, ids, [n, n], S);
    const collectMs = performance.now() - t0;
    let k = 0;
    const updateMs = await ctx.timeIt(async () => {
      const w = (k++ % 10) / 10;
      await mixPruneModel(slot, base, stats, [w, 1 - w], { sparsity: 0.5 });
    }, 2000, 20);
    const work = await LlamaModel.load(ctx.gpu, cfg, ckpt, { resident: true, shareFrom: base });
    const t1 = performance.now();
    await pruneModel(work, { ids, n: 2 * n, seqlen: S }, { method: 'wanda', sparsity: 0.5 });
    const pruneMs = performance.now() - t1;
    work.destroy();
    console.log(`mixer (${name}, 2 sources x ${n} x ${S} tokens, ${cfg.numLayers} layers): update ${updateMs.toFixed(0)} ms (no forward) | collect once ${(collectMs / 1000).toFixed(2)} s | sequential wanda prune ${(pruneMs / 1000).toFixed(2)} s | statistics ${(stats.bytes / 2 ** 20).toFixed(2)} MiB`);
    freeDenseStats(stats);
    // SparseGPT: per-source Hessians from one pass, each update = mix + SparseGPT solve of every matrix
    const th = performance.now();
    const hs = await collectDenseHessians(base, ids, [n, n], S);
    const collectH = performance.now() - th;
    let kh = 0;
    const updateH = await ctx.timeIt(async () => {
      const w = (kh++ % 10) / 10;
      await mixSparsegptModel(slot, base, hs, [w, 1 - w], { sparsity: 0.5 });
    }, 2000, 5);
    const work2 = await LlamaModel.load(ctx.gpu, cfg, ckpt, { resident: true, shareFrom: base });
    const t2 = performance.now();
    await pruneModel(work2, { ids, n: 2 * n, seqlen: S }, { method: 'sparsegpt', sparsity: 0.5 });
    const pruneH = performance.now() - t2;
    work2.destroy();
    console.log(`mixer sparsegpt (${name}, 2 sources x ${n} x ${S} tokens, ${cfg.numLayers} layers): update ${updateH.toFixed(0)} ms (no forward) | collect once ${(collectH / 1000).toFixed(2)} s | sequential sparsegpt prune ${(pruneH / 1000).toFixed(2)} s | Hessians ${(hs.bytes / 2 ** 20).toFixed(2)} MiB`);
    freeDenseHessians(hs);
    slot.destroy();
    base.destroy();
    await ckpt.close();
  }
}
