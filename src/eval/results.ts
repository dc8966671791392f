/**
 * Typed evaluation records (zod schemas), the form results take in history, charts and share links.
 * Metric names of task records follow lm-eval's (`acc`, `acc_stderr`, `acc_norm`, ...). Standard
 * errors are null when n < 2 (lm-eval prints "N/A" there).
 */
import { z } from 'zod';
import { PolyPruneError } from '../common/errors';
import { TASK_NAMES } from './types';

export const perplexityRecordSchema = z.object({
  kind: z.literal('perplexity'),
  language: z.string().min(1),
  /** exp(meanNll). */
  ppl: z.number().positive(),
  /** Mean NLL per predicted token, natural log. */
  meanNll: z.number().nonnegative(),
  /** Total NLL / ln 2 / bytes; null when no byte count was available. */
  bitsPerByte: z.number().nonnegative().nullable(),
  /** Predicted (scored) tokens. */
  tokens: z.number().int().positive(),
  /** UTF-8 bytes the predicted tokens cover (0 when unknown). */
  bytes: z.number().int().nonnegative(),
});

const stderr = z.number().nonnegative().nullable();

export const taskResultSchema = z.object({
  kind: z.literal('task'),
  task: z.enum(TASK_NAMES),
  language: z.string().min(1),
  /** Items scored (at least one: an accuracy over no items is not a number). */
  n: z.number().int().positive(),
  acc: z.number().min(0).max(1),
  acc_stderr: stderr,
  /** Accuracy with log-likelihood divided by the choice's length in characters (code points). */
  acc_norm: z.number().min(0).max(1),
  acc_norm_stderr: stderr,
  /** Accuracy with log-likelihood divided by the choice's length in UTF-8 bytes. */
  acc_bytes: z.number().min(0).max(1),
  acc_bytes_stderr: stderr,
  /** Requests whose token sequence was cut from the left to fit the model's context. */
  truncated: z.number().int().nonnegative(),
  warnings: z.array(z.string()),
});

export const evalRecordSchema = z.discriminatedUnion('kind', [perplexityRecordSchema, taskResultSchema]);

export type PerplexityRecord = z.infer<typeof perplexityRecordSchema>;
export type TaskRecord = z.infer<typeof taskResultSchema>;
export type EvalRecord = z.infer<typeof evalRecordSchema>;

/** Per-item detail of a task run (not part of the shareable record). */
export interface ItemScore {
  id: string;
  label: number;
  /** Log-likelihood of each choice's continuation. */
  lls: number[];
  /** Continuation tokens scored per choice. */
  tokens: number[];
  pred: number;
  predNorm: number;
  predBytes: number;
}

export type TaskResult = TaskRecord & { perItem?: ItemScore[] };

/** Validate an untrusted record (a share link, a stored history entry). */
export function parseEvalRecord(value: unknown): EvalRecord {
  const r = evalRecordSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new PolyPruneError('BAD_ARGUMENT', `Invalid evaluation record at '${issue?.path.join('.') ?? ''}': ${issue?.message ?? r.error.message}.`);
  }
  return r.data;
}

/** The shareable record of a task result (per-item detail dropped). */
export function toTaskRecord(r: TaskResult): TaskRecord {
  const { perItem: _perItem, ...rest } = r;
  return taskResultSchema.parse(rest);
}
