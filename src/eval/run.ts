/** One call from task text to result: parse the file, then score it. */
import type { ProgressCallback } from '../common/progress';
import type { Pacer } from '../common/pace';
import type { TaskResult } from './results';
import { scoreMultipleChoice } from './score';
import { parseTask } from './tasks/index';
import type { EvalTokenizer, SequenceScorer, TaskName } from './types';

export interface RunTaskOptions {
  task: TaskName;
  /** Language of the data; required by xcopa, xnli and pawsx (their prompts are per language). */
  language?: string;
  /** The task file's text (see docs/eval-tasks.md for each format). */
  text: string;
  tokenizer: EvalTokenizer;
  scorer: SequenceScorer;
  /** Score only the first `limit` items (lm-eval --limit). */
  limit?: number;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
  perItem?: boolean;
  /** 'jsonl' only: text between context and choice (default ' '). */
  targetDelimiter?: string;
  /** Override lm-eval's prefix token for empty contexts (default BOS, else EOS). */
  prefixTokenId?: number;
  /** Encode with special tokens (lm-eval add_bos_token=True). */
  addSpecialTokens?: boolean;
  batchTokens?: number;
  /** Run a context shared by several choices once (default true). */
  shareContext?: boolean;
  /** Size scorer calls by time (src/common/pace.ts). */
  pace?: Pacer;
}

/** Parse and score a multiple-choice task. Malformed lines become `warnings`; an unusable file throws TASK_INVALID. */
export async function runTask(o: RunTaskOptions): Promise<TaskResult> {
  const parsed = parseTask(o.task, o.text, { language: o.language, targetDelimiter: o.targetDelimiter });
  return scoreMultipleChoice(parsed, parsed.items, o.tokenizer, o.scorer, {
    limit: o.limit,
    signal: o.signal,
    onProgress: o.onProgress,
    perItem: o.perItem,
    prefixTokenId: o.prefixTokenId,
    addSpecialTokens: o.addSpecialTokens,
    batchTokens: o.batchTokens,
    shareContext: o.shareContext,
    pace: o.pace,
  });
}
