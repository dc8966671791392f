/**
 * Multiple-choice scoring with lm-eval's metrics (EleutherAI/lm-evaluation-harness lm_eval/api/task.py
 * `process_results` for output_type multiple_choice, lm_eval/api/metrics.py `mean_stderr`):
 *
 * - acc: argmax of the choices' log-likelihoods equals the label (first index wins ties, as np.argmax).
 * - acc_norm: argmax of LL / len(choice) in characters (code points, Python `len`).
 * - acc_bytes: argmax of LL / len(choice.encode('utf-8')).
 * - *_stderr: sample standard deviation (n - 1) of the 0/1 scores divided by sqrt(n); null if n < 2.
 *
 * `choice` is the item's choice text without the target delimiter (lm-eval's doc_to_choice).
 */
import { PolyPruneError } from '../common/errors';
import type { ProgressCallback } from '../common/progress';
import type { Pacer } from '../common/pace';
import { computeLoglikelihoods, type EncodeOptions } from './loglikelihood';
import type { ItemScore, TaskResult } from './results';
import type { EvalTokenizer, LlRequest, McItem, SequenceScorer, TaskName } from './types';

export interface ScoreOptions extends EncodeOptions {
  /** Score only the first `limit` items (lm-eval --limit). */
  limit?: number;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
  /** Keep per-item log-likelihoods and predictions in the result. */
  perItem?: boolean;
  /** Padded tokens per scorer call; see computeLoglikelihoods. */
  batchTokens?: number;
  /** Run a context shared by several choices once (default true); see computeLoglikelihoods. */
  shareContext?: boolean;
  /** Size scorer calls by time; see computeLoglikelihoods. */
  pace?: Pacer;
}

/** lm-eval `mean_stderr`: sample stddev (n - 1) / sqrt(n). Null when n < 2. */
export function meanStderr(xs: readonly number[]): number | null {
  const n = xs.length;
  if (n < 2) return null;
  let mu = 0;
  for (const x of xs) mu += x;
  mu /= n;
  let ss = 0;
  for (const x of xs) ss += (x - mu) ** 2;
  return Math.sqrt(ss / (n - 1)) / Math.sqrt(n);
}

/** np.argmax: index of the first maximum. */
export function argmax(xs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

const utf8 = new TextEncoder();

function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

export async function scoreMultipleChoice(
  task: { task: TaskName; language: string; warnings?: readonly string[] },
  items: readonly McItem[],
  tokenizer: EvalTokenizer,
  scorer: SequenceScorer,
  opts: ScoreOptions = {},
): Promise<TaskResult> {
  if (opts.limit !== undefined && !(Number.isInteger(opts.limit) && opts.limit > 0)) {
    throw new PolyPruneError('BAD_ARGUMENT', `limit must be a positive integer, got ${opts.limit}.`);
  }
  const warnings = [...(task.warnings ?? [])];
  const chosen = opts.limit !== undefined ? items.slice(0, opts.limit) : items;
  const requests: LlRequest[] = [];
  const offsets: number[] = [];
  for (const it of chosen) {
    if (it.requests.length !== it.choices.length || it.label < 0 || it.label >= it.choices.length) {
      throw new PolyPruneError('BAD_ARGUMENT', `Item '${it.id}' is inconsistent: ${it.requests.length} requests, ${it.choices.length} choices, label ${it.label}.`);
    }
    offsets.push(requests.length);
    requests.push(...it.requests);
  }
  const total = chosen.length;
  opts.onProgress?.({ kind: 'eval', message: `${task.task} ${task.language}: scoring ${requests.length} requests`, done: 0, total });
  const run = await computeLoglikelihoods(requests, tokenizer, scorer, {
    prefixTokenId: opts.prefixTokenId,
    addSpecialTokens: opts.addSpecialTokens,
    batchTokens: opts.batchTokens,
    shareContext: opts.shareContext,
    signal: opts.signal,
    pace: opts.pace,
    onBatch: (done, all) =>
      opts.onProgress?.({ kind: 'eval', message: `${task.task} ${task.language}: items scored`, done: Math.floor((done / all) * total), total }),
  });

  const acc: number[] = [];
  const accNorm: number[] = [];
  const accBytes: number[] = [];
  const perItem: ItemScore[] = [];
  chosen.forEach((it, k) => {
    const res = run.results.slice(offsets[k], offsets[k] + it.requests.length);
    if (res.some((r) => r.tokens === 0)) {
      warnings.push(`item ${it.id}: a continuation encodes to no tokens; item not scored.`);
      return;
    }
    const lls = res.map((r) => r.logLikelihood);
    const pred = argmax(lls);
    const predNorm = argmax(lls.map((ll, i) => ll / Array.from(it.choices[i]).length));
    const predBytes = argmax(lls.map((ll, i) => ll / utf8.encode(it.choices[i]).length));
    acc.push(pred === it.label ? 1 : 0);
    accNorm.push(predNorm === it.label ? 1 : 0);
    accBytes.push(predBytes === it.label ? 1 : 0);
    if (opts.perItem) perItem.push({ id: it.id, label: it.label, lls, tokens: res.map((r) => r.tokens), pred, predNorm, predBytes });
  });
  if (acc.length === 0 && total > 0) {
    const ids = chosen.slice(0, 5).map((it) => `'${it.id}'`).join(', ');
    throw new PolyPruneError(
      'TASK_INVALID',
      `No item of this ${task.task} file could be scored: every item has a choice that this model's tokenizer turns into no tokens (${ids}${total > 5 ? `, ... ${total} items` : ''}), so there is no accuracy to report. Check the file's choices (empty strings?) and that the tokenizer belongs to the model.`,
    );
  }
  if (run.truncated > 0) warnings.push(`${run.truncated} request(s) were cut from the left to fit the model's context of ${scorer.maxContext} tokens.`);
  opts.onProgress?.({ kind: 'eval', message: `${task.task} ${task.language}: done`, done: total, total });

  const result: TaskResult = {
    kind: 'task',
    task: task.task,
    language: task.language,
    n: acc.length,
    acc: mean(acc),
    acc_stderr: meanStderr(acc),
    acc_norm: mean(accNorm),
    acc_norm_stderr: meanStderr(accNorm),
    acc_bytes: mean(accBytes),
    acc_bytes_stderr: meanStderr(accBytes),
    truncated: run.truncated,
    warnings,
  };
  if (opts.perItem) result.perItem = perItem;
  return result;
}
