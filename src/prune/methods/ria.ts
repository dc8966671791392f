/**
 * RIA, relative importance and activations (Zhang et al., ICLR 2024; biomedical-cybernetics/
 * Relative-importance-and-activation-pruning `prune_ria`): (|W| / column sum + |W| / row sum) x
 * sqrt(scaler_row)^0.5, pruned per output row like Wanda (src/prune/ria.ts, docs/ria.md).
 */
import type { MethodSpec } from './types';

export const ria = {
  id: 'ria',
  label: 'RIA',
  description: 'relative importance (|W| over its column and row sums) x input activation norm^0.5, per output row (Zhang et al. 2024)',
  calibrated: true,
  statistic: 'norms',
  perSource: false,
  solver: null,
  mixer: { supported: false, why: "The instant mode derives Wanda's or SparseGPT's masks from mixed statistics; RIA's score is not one the mixer forms. Run RIA without the instant mode." },
  profiles: ['uniform', 'owl'],
  patterns: ['unstructured', 'nm'],
  llmCompressor: { modifier: null, why: 'llm-compressor 0.13.0 has no RIA modifier (relative importance and activations); its Wanda modifier would prune other weights' },
} as const satisfies MethodSpec<'ria'>;
