/**
 * Every method's prune step, by name: prune one matrix in place from its input group's statistic
 * (src/prune/run.ts builds the context and calls PRUNE_STEPS[method]). The compiler asks for a new
 * method's step as METHODS (./index.ts) asks for its spec. The steps sit apart from the specs so
 * that code reading the specs (the page's main thread) does not bundle the pruning kernels.
 */
import type { Tensor } from '../../gpu/device';
import { magnitudePrune } from '../magnitude';
import { langAwareScaler } from '../owl';
import { copyPanels, destroyPanels } from '../panels';
import { sparsegptPrune } from '../sparsegpt';
import { wandaPrune } from '../wanda';
import { riaPrune } from '../ria';
import { gptqQuantize } from '../gptq';
import type { PruneMethod } from './index';
import type { MatrixPruneContext, PruneStep } from './types';

/** Wanda with a given scaler_row: hand it out (onStatistic), then select per output row. */
async function wandaWith(ctx: MatrixPruneContext, scaler: Tensor): Promise<void> {
  if (ctx.onStatistic) await ctx.onStatistic(ctx.layer, ctx.name, await ctx.gpu.readF32(scaler));
  await wandaPrune(ctx.gpu, ctx.weight, scaler, { sparsity: ctx.sparsity, nm: ctx.nm });
}

export const PRUNE_STEPS: { readonly [K in PruneMethod]: PruneStep } = {
  wanda: (ctx) => wandaWith(ctx, ctx.scaler!),

  // One source: plain Wanda on its statistic; several: mean + beta x spread of their statistics.
  'wanda-lang': async (ctx) => {
    if (!ctx.perSource) return wandaWith(ctx, ctx.scaler!);
    const combined = langAwareScaler(await Promise.all(ctx.perSource.map((x) => ctx.gpu.readF32(x))), ctx.settings.langBeta as number);
    const scaler = ctx.gpu.upload(combined, [combined.length], 'wanda_lang.scaler');
    try {
      await wandaWith(ctx, scaler);
    } finally {
      scaler.destroy();
    }
  },

  sparsegpt: async (ctx) => {
    const H = ctx.hessian!;
    // The solver works in place: every user of a shared Hessian but the last gets a copy.
    const Huse = ctx.keepStatistic ? copyPanels(ctx.gpu, H, 'sparsegpt.H.copy') : H;
    try {
      const q = ctx.settings.quantize;
      const res = await sparsegptPrune(ctx.gpu, ctx.weight, Huse, { sparsity: ctx.sparsity, nm: ctx.nm, blocksize: ctx.settings.blocksize ?? 128, percdamp: ctx.settings.percdamp ?? 0.01, ...(q ? { quantize: { bits: q.bits } } : {}) });
      // joint mode: the kept weights' codes and per-row parameters
      if (res.quantized && ctx.onQuantized) await ctx.onQuantized(ctx.layer, ctx.name, res.quantized);
    } finally {
      if (Huse !== H) destroyPanels(Huse);
    }
  },

  // RIA: Wanda's statistic, its own score (relative importance x activation^0.5), Wanda's selection.
  ria: async (ctx) => {
    if (ctx.onStatistic) await ctx.onStatistic(ctx.layer, ctx.name, await ctx.gpu.readF32(ctx.scaler!));
    await riaPrune(ctx.gpu, ctx.weight, ctx.scaler!, { sparsity: ctx.sparsity, nm: ctx.nm });
  },

  magnitude: (ctx) => magnitudePrune(ctx.gpu, ctx.weight, null, { sparsity: ctx.sparsity, nm: ctx.nm }),

  // GPTQ reads the Hessian without changing it (the damped factor is a new matrix): no copy.
  gptq: async (ctx) => {
    const q = ctx.settings.quantize!;
    const res = await gptqQuantize(ctx.gpu, ctx.weight, ctx.hessian!, { ...q, blocksize: ctx.settings.blocksize ?? 128, percdamp: ctx.settings.percdamp ?? 0.01 });
    if (ctx.onQuantized) await ctx.onQuantized(ctx.layer, ctx.name, res);
  },
};
