/** Magnitude pruning: the smallest absolute weights of each matrix; no calibration (wanda `prune_magnitude`). */
import type { MethodSpec } from './types';

export const magnitude = {
  id: 'magnitude',
  label: 'Magnitude',
  description: 'smallest absolute weights per matrix; no calibration',
  calibrated: false,
  statistic: 'none',
  perSource: false,
  solver: null,
  mixer: { supported: false, why: 'Magnitude pruning uses no calibration, so there are no statistics to mix: run the grid without the instant mode.' },
  profiles: ['uniform'],
  patterns: ['unstructured', 'nm'],
  llmCompressor: { modifier: null, why: 'magnitude pruning needs no calibration and llm-compressor has no oneshot modifier for it' },
} as const satisfies MethodSpec<'magnitude'>;
