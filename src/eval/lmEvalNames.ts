/**
 * lm-evaluation-harness task names (`xcopa_it`, `xnli_de`, `belebele_deu_Latn`, `pawsx_de`,
 * `xstorycloze_es`, `xwinograd_en`) resolved to a task format of this layer plus the language, so
 * people can paste the names they know. The data comes from a file, or from the Hub by the task name
 * (src/io/datasets/taskData.ts: the dataset and split lm-eval scores).
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

/** Belebele's FLORES-200 codes for ISO 639-1 languages (lm-eval's `belebele_<code>` tasks). */
export const BELEBELE_CODES: Readonly<Record<string, string>> = {
  ar: 'arb_Arab', de: 'deu_Latn', en: 'eng_Latn', es: 'spa_Latn', fr: 'fra_Latn', it: 'ita_Latn', ja: 'jpn_Jpan',
  pt: 'por_Latn', ru: 'rus_Cyrl', sw: 'swh_Latn', zh: 'zho_Hans', hi: 'hin_Deva', tr: 'tur_Latn', vi: 'vie_Latn',
  id: 'ind_Latn', th: 'tha_Thai', ko: 'kor_Hang', nl: 'nld_Latn', pl: 'pol_Latn', uk: 'ukr_Cyrl',
};

/**
 * Items in the split lm-eval scores (XCOPA test 500, XNLI validation 2490, XStoryCloze eval 1511,
 * PAWS-X test 2000, Belebele test 900, XWinograd test per language), as the datasets' cards give them;
 * the count actually scored is the number of rows read.
 */
const ITEMS: Readonly<Record<string, number | Readonly<Record<string, number>>>> = {
  xcopa: 500,
  xnli: 2490,
  xstorycloze: 1511,
  pawsx: 2000,
  belebele: 900,
  xwinograd: { en: 2325, fr: 83, jp: 959, pt: 263, ru: 315, zh: 504 },
};

export interface LmEvalTaskChoice {
  /** lm-eval task name, e.g. `xcopa_it`. */
  name: string;
  task: TaskName;
  /** ISO 639-1 */
  language: string;
  items: number;
}

/** The lm-eval tasks that exist for these languages (ISO 639-1), with their item counts. */
export function lmEvalTasksFor(languages: readonly string[]): LmEvalTaskChoice[] {
  const out: LmEvalTaskChoice[] = [];
  for (const language of languages) {
    for (const [task, langs] of Object.entries(LM_EVAL_LANGUAGES)) {
      const l = task === 'xwinograd' && language === 'ja' ? 'jp' : language;
      if (!langs.includes(l)) continue;
      const n = ITEMS[task];
      out.push({ name: `${task}_${l}`, task: task as TaskName, language, items: typeof n === 'number' ? n : n[l] });
    }
    const bb = BELEBELE_CODES[language];
    if (bb) out.push({ name: `belebele_${bb}`, task: 'belebele', language, items: ITEMS.belebele as number });
  }
  return out;
}
