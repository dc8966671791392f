/**
 * The names of the pruned checkpoints Kurz et al. published on the Hugging Face Hub (organisation
 * `multilingual-pruning`): `pruned-<model>-<method>-<ratio>-<type>-<dataset>-<lang>-<seed>`, e.g.
 * `pruned-llama3-8b-instruct-wanda-0.5-2to4-mc4-zh-1234`, where runs with seeds 42 and 1234 carry the
 * prefix twice (`pruned-pruned-...`), as issue 21 records the rule. The issue's own example has seed
 * 1234 with one prefix, and the Hub could not be listed from here, so both spellings are candidates,
 * the rule's first (docs/data.md).
 */
export const PUBLISHED_ORG = 'multilingual-pruning';

/** Short model names in the published checkpoints (the Aya name is this project's guess, not checked). */
export const PUBLISHED_MODEL_NAMES: Readonly<Record<string, string>> = {
  'meta-llama/Meta-Llama-3-8B-Instruct': 'llama3-8b-instruct',
  'CohereForAI/aya-23-8B': 'aya-23-8b',
};

export interface PublishedRun {
  /** Base model Hub id (e.g. meta-llama/Meta-Llama-3-8B-Instruct). */
  model: string;
  method: string;
  /** Sparsity ratio (0.5; 2:4 is 0.5 too). */
  ratio: number;
  /** N:M pattern, or none for unstructured. */
  nm?: { n: number; m: number };
  dataset: string;
  language: string;
  seed: number;
}

/** Hub ids the published checkpoint of this run may have, the naming rule's first; [] for a model they did not prune. */
export function publishedCandidates(r: PublishedRun): string[] {
  const model = PUBLISHED_MODEL_NAMES[r.model.replace(/^hf:/, '').replace(/@.*$/, '')];
  if (!model) return [];
  const type = r.nm ? `${r.nm.n}to${r.nm.m}` : 'unstructured';
  const base = `pruned-${model}-${r.method}-${r.ratio}-${type}-${r.dataset}-${r.language}-${r.seed}`;
  const twice = r.seed === 42 || r.seed === 1234;
  const names = twice ? [`pruned-${base}`, base] : [base, `pruned-${base}`];
  return names.map((n) => `${PUBLISHED_ORG}/${n}`);
}
