/**
 * Hub datasets for the page (the UI reaches src/io only through the engine layer): calibration text
 * from a corpus by language and the rows of an lm-eval task, read on the page's thread with the
 * browser's fetch and DecompressionStream, kept in the Cache API store that also holds the weights
 * (src/io/cache.ts), so the Model panel's cache line shows and clears both.
 */
import { cacheApiDatasetCache } from '../io/cache';
import { CORPORA, fetchCorpusText, fetchTextAgain, parseCorpusSpec, type CorpusText, type HubTextRef } from '../io/datasets/corpus';
import { fetchTaskRows, lmEvalDataset, type TaskRows } from '../io/datasets/taskData';

export { CORPORA, MC4_SHARDS, FINEWEB2_CONFIGS, parseCorpusSpec, corpusSpecString, hubTextRef, type CorpusText, type HubTextRef, type TextProvenance } from '../io/datasets/corpus';
export { LM_EVAL_DATASETS, type TaskRows } from '../io/datasets/taskData';

export interface HubDataOptions {
  endpoint?: string;
  token?: string;
  signal?: AbortSignal;
  onCacheFull?: (message: string) => void;
}

/** Text of `spec` (e.g. `mc4:de`): documents from the start, `bytes` UTF-8 bytes of them. */
export function hubCorpusText(spec: string, bytes: number, opts: HubDataOptions = {}): Promise<CorpusText> {
  return fetchCorpusText(parseCorpusSpec(spec), { ...opts, bytes, cache: cacheApiDatasetCache() ?? undefined });
}

/** A text a record names by its Hub provenance, fetched again and checked against its SHA-256 (HASH_MISMATCH otherwise). */
export function hubTextAgain(ref: HubTextRef, sha256: string, opts: HubDataOptions = {}): Promise<CorpusText> {
  return fetchTextAgain(ref, sha256, { ...opts, cache: cacheApiDatasetCache() ?? undefined });
}

/** The rows lm-eval scores for a task format in a language as lm-eval names it (`it`, `jp`, `deu_Latn`). */
export function hubTaskRows(format: string, lmEvalLanguage: string, opts: HubDataOptions = {}): Promise<TaskRows> {
  return fetchTaskRows(lmEvalDataset(format, lmEvalLanguage), { ...opts, cache: cacheApiDatasetCache() ?? undefined });
}

/** The corpora the page offers, by id. */
export const HUB_CORPORA = Object.entries(CORPORA).map(([id, c]) => ({ id, ...c }));
