/**
 * GPTQ (Frantar, Ashkboos, Hoefler & Alistarh 2023; IST-DASLab/gptq `GPTQ.fasterquant`): 2-, 3-, 4- or
 * 8-bit weights, asymmetric min-max per group of columns, each column's rounding error compensated
 * through the calibration Hessian (src/prune/gptq.ts, docs/quantize.md). It quantizes instead of
 * pruning: no sparsity, no N:M, no layer-wise profile; `polyprune quantize` runs it.
 */
import type { MethodSpec } from './types';

export const gptq = {
  id: 'gptq',
  label: 'GPTQ',
  description: 'quantization to 2/3/4/8-bit integers per group of columns with Hessian-based error compensation (Frantar et al. 2023)',
  calibrated: true,
  statistic: 'hessian',
  perSource: false,
  solver: { blocksize: 128, percdamp: 0.01 },
  mixer: { supported: false, why: 'The instant mode derives pruning masks; GPTQ quantizes. Run it with polyprune quantize.' },
  profiles: ['uniform'],
  patterns: [],
  llmCompressor: { modifier: null, why: 'PolyPrune writes no quantization recipe yet' },
  quantizes: true,
} as const satisfies MethodSpec<'gptq'>;
