/** SparseGPT (Frantar & Alistarh 2023): layer-wise OBS pruning with weight updates from the calibration Hessian (IST-DASLab/sparsegpt). */
import type { MethodSpec } from './types';

export const sparsegpt = {
  id: 'sparsegpt',
  label: 'SparseGPT',
  description: 'layer-wise OBS pruning with weight updates from the Hessian of the calibration inputs (Frantar & Alistarh 2023)',
  calibrated: true,
  statistic: 'hessian',
  perSource: false,
  solver: { blocksize: 128, percdamp: 0.01 },
  mixer: { supported: true, statistics: 'SparseGPT Hessians' },
  profiles: ['uniform', 'owl'],
  patterns: ['unstructured', 'nm'],
  llmCompressor: { modifier: 'SparseGPTModifier', solverFields: true },
  jointQuantize: true,
} as const satisfies MethodSpec<'sparsegpt'>;
