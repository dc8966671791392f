/**
 * GPTQ (Frantar, Ashkboos, Hoefler & Alistarh 2023; IST-DASLab/gptq `GPTQ.fasterquant`): 2-, 3-, 4- or
 * 8-bit weights, asymmetric min-max per group of columns, each column's rounding error compensated
 * through the calibration Hessian (src/prune/gptq.ts, docs/quantize.md). It quantizes instead of
 * pruning: no sparsity, no N:M, no layer-wise profile; `polyprune quantize` runs it.
 */
import { PolyPruneError } from '../../common/errors';
import type { MethodSpec } from './types';

/** The bit widths GPTQ quantizes to. */
export const GPTQ_BITS = [2, 3, 4, 8] as const;
export type GptqBits = (typeof GPTQ_BITS)[number];

/** BAD_ARGUMENT unless bits is 2, 3, 4 or 8 and the group size is a positive integer or -1. */
export function validateGptqOptions(o: { bits?: number; groupSize?: number; actOrder?: boolean; staticGroups?: boolean }): void {
  if (!(GPTQ_BITS as readonly number[]).includes(o.bits as number)) throw new PolyPruneError('BAD_ARGUMENT', `GPTQ quantizes to 2, 3, 4 or 8 bits, got ${String(o.bits)}; give --bits 4 (for example).`);
  const g = o.groupSize;
  if (g !== undefined && g !== -1 && !(Number.isInteger(g) && g >= 1)) {
    throw new PolyPruneError('BAD_ARGUMENT', `The GPTQ group size must be a positive number of columns (e.g. 128) or -1 for per channel, got ${String(g)}.`);
  }
}


export const gptq = {
  id: 'gptq',
  label: 'GPTQ',
  description: 'quantization to 2/3/4/8-bit integers per group of columns with Hessian-based error compensation (Frantar et al. 2023)',
  calibrated: true,
  statistic: 'hessian',
  perSource: false,
  solver: { blocksize: 128, percdamp: 0.01 },
  // the same per-source Hessians as SparseGPT's mixer (statistic 'hessian'), quantized instead of pruned
  mixer: { supported: true, statistics: 'GPTQ Hessians' },
  profiles: ['uniform'],
  patterns: [],
  llmCompressor: { modifier: null, why: 'PolyPrune writes no quantization recipe yet' },
  quantizes: true,
} as const satisfies MethodSpec<'gptq'>;
