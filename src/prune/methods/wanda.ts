/** Wanda (Sun et al. 2023): |W| x the input's activation norm, pruned per output row (locuslab/wanda `prune_wanda`). */
import type { MethodSpec } from './types';

export const wanda = {
  id: 'wanda',
  label: 'Wanda',
  description: 'weight magnitude x input activation norm, per output row (Sun et al. 2023)',
  calibrated: true,
  statistic: 'norms',
  perSource: false,
  solver: null,
  mixer: { supported: true, statistics: 'Wanda statistics' },
  profiles: ['uniform', 'owl'],
  patterns: ['unstructured', 'nm'],
  llmCompressor: { modifier: 'WandaPruningModifier', solverFields: false },
} as const satisfies MethodSpec<'wanda'>;
