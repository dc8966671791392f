/**
 * Language-aware Wanda (`wanda-lang`): Wanda with each calibration source's input norms combined as
 * mean + beta x spread across sources (src/prune/owl.ts `langAwareScaler`, its step in ./steps.ts), in the spirit of M-Wanda.
 */
import type { MethodSpec } from './types';

export const wandaLang = {
  id: 'wanda-lang',
  label: 'Language-aware Wanda',
  description:
    'Wanda with the input norms of each calibration source combined as mean + beta x spread across sources, so features that matter to any one language are kept (in the spirit of M-Wanda, Choenni & Titov 2025)',
  calibrated: true,
  statistic: 'norms',
  perSource: true,
  solver: null,
  mixer: { supported: false, why: "The instant mode mixes the sources' mean statistics; wanda-lang's score needs their spread, which mixPrune does not compute. Run wanda-lang without the instant mode, or use wanda." },
  profiles: ['uniform', 'owl'],
  patterns: ['unstructured', 'nm'],
  llmCompressor: { modifier: null, why: 'language-aware Wanda has no llm-compressor equivalent' },
} as const satisfies MethodSpec<'wanda-lang'>;
