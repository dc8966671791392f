/**
 * The study's own design as a preset (`polyprune grid --preset kurz2026`): Kurz, Chen, Flek, Zhao,
 * "On the Limitations of Language Targeted Pruning: Investigating the Calibration Language Impact in
 * Multilingual LLM Pruning", TACL 14 (2026), arXiv 2408.14398. Every setting names where it comes
 * from (docs/data.md, "The paper's preset"); every one can be overridden by its own option.
 */
import { lmEvalTasksFor } from '../eval/lmEvalNames';
import type { PruneMethod } from '../prune/method';

export interface PresetSetting<T> {
  value: T;
  /** Where the value comes from, and whether the paper's text was checked for it. */
  source: string;
}

export interface StudyPreset {
  id: string;
  title: string;
  models: PresetSetting<string[]>;
  methods: PresetSetting<PruneMethod[]>;
  /** Unstructured sparsity ratios and N:M patterns. */
  patterns: PresetSetting<{ sparsity?: number; nm?: { n: number; m: number } }[]>;
  calibCorpus: PresetSetting<string>;
  languages: PresetSetting<string[]>;
  nsamples: PresetSetting<number>;
  seqlen: PresetSetting<number>;
  seeds: PresetSetting<number[]>;
  /** Held-out perplexity text: a corpus spec with `{lang}`. */
  evalText: PresetSetting<string>;
  /** lm-eval task families scored where they exist for the languages. */
  taskFamilies: PresetSetting<string[]>;
}

const ISSUE = 'issue 21 (the study\'s design as the project records it); not checked against the paper\'s full text here';
/** The Hub organisation's card and model listing (huggingface.co/multilingual-pruning), read for the paper check (docs/data.md). */
const ORG = "the authors' Hub organisation multilingual-pruning (its card and model listing, checked)";

export const KURZ2026: StudyPreset = {
  id: 'kurz2026',
  title: 'Reproduce Kurz et al. (TACL 2026)',
  models: { value: ['meta-llama/Meta-Llama-3-8B-Instruct', 'CohereForAI/aya-23-8B'], source: `Llama-3 and Aya-23 (8B): the paper's abstract pages; the Instruct variant and both 8B models: ${ORG}, whose names read llama3-8b-instruct and aya-23-8b (it also holds llama3-70b-instruct and aya-23-35b runs)` },
  methods: { value: ['wanda', 'sparsegpt'], source: `Wanda and SparseGPT: the paper's abstract pages and ${ORG}` },
  patterns: { value: [{ sparsity: 0.5 }, { nm: { n: 2, m: 4 } }], source: `50 % unstructured and 2:4: ${ORG} (0.5-unstructured and 0.5-2to4; a few Llama runs at 0.1 to 0.3 too)` },
  calibCorpus: { value: 'mc4', source: `mC4: ${ORG} ('mc4' in the names; some SparseGPT runs calibrate on HellaSwag); the allenai/c4 multilingual train shards and which documents: ${ISSUE}` },
  languages: { value: ['ar', 'de', 'en', 'es', 'ru', 'sw', 'zh'], source: `seven calibration languages: the paper's abstract pages say seven; these seven: ${ORG} (mc4-ar ... mc4-zh in the names)` },
  nsamples: { value: 128, source: `128 windows: ${ISSUE}; also wanda's and SparseGPT's default (locuslab/wanda main.py --nsamples 128)` },
  seqlen: { value: 2048, source: `2048 tokens: ${ISSUE}; wanda's C4 loader cuts windows of the model's seqlen (2048 for LLaMA)` },
  seeds: { value: [0, 42, 1234], source: `0, 42 and 1234: ${ORG} (the names end in -0, -42 and -1234)` },
  evalText: { value: 'mc4:{lang}:validation', source: `held-out documents of the same languages: mC4's validation shards, as the issue asks unless the paper says otherwise (${ISSUE}); wanda evaluates C4 on its validation shard` },
  taskFamilies: { value: ['xcopa', 'xstorycloze', 'xnli', 'pawsx', 'xwinograd', 'belebele'], source: `XCOPA, XStoryCloze, XNLI, PAWS-X, XWinograd, Belebele: ${ISSUE}; data and splits as lm-eval's task YAML files (src/io/datasets/taskData.ts)` },
};

export const PRESETS: Readonly<Record<string, StudyPreset>> = { kurz2026: KURZ2026 };

/** The lm-eval tasks of a preset that exist for its languages. */
export function presetTasks(p: StudyPreset, languages = p.languages.value) {
  return lmEvalTasksFor(languages).filter((t) => p.taskFamilies.value.includes(t.task));
}
