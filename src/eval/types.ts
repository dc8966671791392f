/**
 * Shared types of the evaluation layer: what a model must offer to be scored, what a tokenizer must
 * offer, and the multiple-choice item every task parser produces.
 */

/**
 * Runs the model: for each token sequence, the NLL (natural log, float) of tokens 1..n-1 given their
 * prefix. Entry j of a result is -log p(seq[j+1] | seq[0..j]); a result has n-1 entries.
 *
 * Sequences passed by this layer have at most `maxContext + 1` tokens: the last token is only a
 * target, so the model itself never runs on more than `maxContext` positions (lm-eval feeds
 * `(context + continuation)[-(max_length + 1):][:-1]` to the model the same way). Sequences in one
 * call may have different lengths; each must have at least 2 tokens.
 */
export interface SequenceScorer {
  readonly maxContext: number;
  tokenNll(seqs: Int32Array[], signal?: AbortSignal): Promise<Float32Array[]>;
  /**
   * Optional context sharing: for each group, the NLLs of each suffix's tokens given the group's
   * prefix and the suffix tokens before it, with the prefix run once (result[g][i] has
   * suffixes[i].length entries and equals the last suffixes[i].length entries of
   * tokenNll([prefix ++ suffixes[i]])). prefix.length + suffix.length <= maxContext + 1.
   */
  tokenNllShared?(groups: SharedPrefixGroup[], signal?: AbortSignal): Promise<Float32Array[][]>;
}

/** Token sequences that start with the same prefix (several choices after one context). */
export interface SharedPrefixGroup {
  prefix: Int32Array;
  suffixes: Int32Array[];
}

/**
 * The part of a tokenizer the evaluation layer needs (a structural subset of src/io's TextTokenizer).
 * `encode` must not add special tokens when `addSpecialTokens` is false.
 */
export interface EvalTokenizer {
  encode(text: string, opts?: { addSpecialTokens?: boolean }): Int32Array | ArrayLike<number>;
  readonly bosTokenId?: number;
  readonly eosTokenId?: number;
}

/** One log-likelihood request, as lm-eval's `loglikelihood` takes it: score `continuation` after `context`. */
export interface LlRequest {
  context: string;
  continuation: string;
}

/** Every multiple-choice task this layer can parse. */
export const TASK_NAMES = ['xcopa', 'xstorycloze', 'xnli', 'pawsx', 'xwinograd', 'belebele', 'clams', 'jsonl', 'udhr'] as const;
export type TaskName = (typeof TASK_NAMES)[number];

/**
 * One multiple-choice item: one request per choice; the prediction is the choice whose continuation
 * has the highest log-likelihood. `choices[i]` is the text lm-eval's `doc_to_choice` returns for
 * choice i (no target delimiter); acc_norm and acc_bytes divide by its length in code points / UTF-8
 * bytes, as lm-eval does.
 */
export interface McItem {
  /** Stable id: the dataset's own id where it has one, otherwise `line <n>`. */
  id: string;
  requests: LlRequest[];
  choices: string[];
  /** Index of the correct choice. */
  label: number;
}

/** Result of parsing a task file: items plus per-line problems that did not stop parsing. */
export interface ParsedTask {
  task: TaskName;
  language: string;
  items: McItem[];
  warnings: string[];
}
