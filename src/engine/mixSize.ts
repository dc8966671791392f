/**
 * What the mixer's statistics will take, from a model's summary alone (the page shows it before a
 * collection). Wanda: one value per window and input of each input group; SparseGPT: one K x K Hessian
 * per source, layer and input group (q/k/v and gate/up read the hidden state, o_proj the attention
 * output of heads x head_dim, down_proj the F-wide MLP state). Matches denseStatsBytes and
 * denseHessiansBytes (src/prune/mix.ts, src/prune/mixHessian.ts) for Llama-family models.
 */
import type { ModelSummary } from './api';
import { METHODS, type MixMethod } from '../prune/method';

type Shape = Pick<ModelSummary, 'numLayers' | 'hiddenSize' | 'intermediateSize' | 'numHeads' | 'headDim'>;

/** Input widths of the four input groups: q/k/v, o, gate/up, down. */
function widths(m: Shape): number[] {
  return [m.hiddenSize, m.numHeads * m.headDim, m.hiddenSize, m.intermediateSize];
}

/** GPU bytes of the mixer statistics for `windows[s]` windows of each source. */
export function mixStatsBytes(m: Shape, method: MixMethod, windows: readonly number[]): number {
  const w = widths(m);
  if (METHODS[method].statistic === 'hessian') return windows.length * m.numLayers * w.reduce((a, k) => a + k * k * 4, 0);
  const n = windows.reduce((a, b) => a + b, 0);
  return m.numLayers * n * w.reduce((a, k) => a + k * 4, 0);
}
