/**
 * lm-evaluation-harness task names (`xcopa_it`, `xnli_de`, `belebele_deu_Latn`, `pawsx_de`,
 * `xstorycloze_es`, `xwinograd_en`) resolved to a task format of this layer plus the language, so
 * people can paste the names they know. The data itself still comes from a file (no downloads).
 */
import { PolyPruneError } from '../common/errors';
import { toIso6391 } from '../common/languages';
import { TASK_NAMES, type TaskName } from './types';

/** The languages lm-eval defines for each multilingual task (belebele: any `<iso639-3>_<Script>`). */
export const LM_EVAL_LANGUAGES: Readonly<Record<string, readonly string[]>> = {
  xcopa: ['et', 'ht', 'id', 'it', 'qu', 'sw', 'ta', 'th', 'tr', 'vi', 'zh'],
  xnli: ['ar', 'bg', 'de', 'el', 'en', 'es', 'fr', 'hi', 'ru', 'sw', 'th', 'tr', 'ur', 'vi', 'zh'],
  pawsx: ['de', 'en', 'es', 'fr', 'ja', 'ko', 'zh'],
  xstorycloze: ['ar', 'en', 'es', 'eu', 'hi', 'id', 'my', 'ru', 'sw', 'te', 'zh'],
  xwinograd: ['en', 'fr', 'jp', 'pt', 'ru', 'zh'],
};

export interface ResolvedTaskName {
  task: TaskName;
  /** ISO 639-1 where one exists (xwinograd's `jp` is `ja`, belebele's `deu_Latn` is `de`). */
  language?: string;
  /** The language as lm-eval writes it in the task name (`jp`, `deu_Latn`). */
  lmEvalLanguage?: string;
}

/**
 * A task format name (`xcopa`) or an lm-eval task name (`xcopa_it`). Throws BAD_ARGUMENT naming
 * what is known.
 */
export function resolveTaskName(name: string): ResolvedTaskName {
  const n = name.trim();
  if ((TASK_NAMES as readonly string[]).includes(n)) return { task: n as TaskName };
  const bb = /^belebele_([a-z]{3})_([A-Z][a-z]{3})$/.exec(n);
  if (bb) return { task: 'belebele', language: toIso6391(bb[1]), lmEvalLanguage: `${bb[1]}_${bb[2]}` };
  const m = /^([a-z]+)_([a-z]{2,3})$/.exec(n);
  if (m && LM_EVAL_LANGUAGES[m[1]]) {
    const langs = LM_EVAL_LANGUAGES[m[1]];
    if (!langs.includes(m[2])) throw new PolyPruneError('BAD_ARGUMENT', `lm-eval has no task '${n}': ${m[1]} languages are ${langs.join(', ')}.`);
    return { task: m[1] as TaskName, language: m[2] === 'jp' ? 'ja' : m[2], lmEvalLanguage: m[2] };
  }
  throw new PolyPruneError(
    'BAD_ARGUMENT',
    `Unknown task '${n}'. Supported: ${TASK_NAMES.join(', ')}, or an lm-eval task name such as xcopa_it, xnli_de, belebele_deu_Latn, pawsx_de, xstorycloze_es, xwinograd_en.`,
  );
}
