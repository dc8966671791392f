/**
 * XNLI (Conneau et al. 2018), lm-eval template: EleutherAI/lm-evaluation-harness
 * lm_eval/tasks/xnli/utils.py (generates xnli_<lang>.yaml):
 *
 * context = premise + ', ' + QUESTION_WORD + '?'
 * choices = [ENTAILMENT + ', ' + hypothesis, NEUTRAL + ', ' + hypothesis, CONTRADICTION + ', ' + hypothesis]
 * continuation = ' ' + choice; label 0 entailment, 1 neutral, 2 contradiction.
 *
 * Input: JSONL / JSON array `{premise, hypothesis, label}` (Hugging Face facebook/xnli; label an
 * integer or the label name), or the XNLI 1.0 TSV (`gold_label`, `sentence1`, `sentence2`, and a
 * `language` column used to keep the rows of the requested language).
 */
import type { ParsedTask } from '../types';
import {
  asObject,
  checkLabel,
  collect,
  contextItem,
  finish,
  int,
  readJsonRecords,
  readTsvRecords,
  RecordError,
  requireLanguage,
  str,
  stripBom,
  type SourceRecord,
} from './common';

export interface XnliWords {
  question: string;
  entailment: string;
  neutral: string;
  contradiction: string;
}

/** Per-language words of lm-eval's XNLI prompts (lm_eval/tasks/xnli/utils.py). */
export const XNLI_WORDS: Readonly<Record<string, XnliWords>> = {
  ar: { question: 'صحيح', entailment: 'نعم', neutral: 'لذا', contradiction: 'رقم' },
  bg: { question: 'правилно', entailment: 'да', neutral: 'така', contradiction: 'не' },
  de: { question: 'richtig', entailment: 'Ja', neutral: 'Auch', contradiction: 'Nein' },
  el: { question: 'σωστός', entailment: 'Ναί', neutral: 'Έτσι', contradiction: 'όχι' },
  en: { question: 'right', entailment: 'Yes', neutral: 'Also', contradiction: 'No' },
  es: { question: 'correcto', entailment: 'Sí', neutral: 'Asi que', contradiction: 'No' },
  fr: { question: 'correct', entailment: 'Oui', neutral: 'Aussi', contradiction: 'Non' },
  hi: { question: 'सही', entailment: 'हाँ', neutral: 'इसलिए', contradiction: 'नहीं' },
  ru: { question: 'правильно', entailment: 'Да', neutral: 'Так', contradiction: 'Нет' },
  sw: { question: 'sahihi', entailment: 'Ndiyo', neutral: 'Hivyo', contradiction: 'Hapana' },
  th: { question: 'ถูกต้อง', entailment: 'ใช่', neutral: 'ดังนั้น', contradiction: 'ไม่' },
  tr: { question: 'doğru', entailment: 'Evet', neutral: 'Böylece', contradiction: 'Hayır' },
  ur: { question: 'صحیح', entailment: 'جی ہاں', neutral: 'اس لئے', contradiction: 'نہیں' },
  vi: { question: 'đúng', entailment: 'Vâng', neutral: 'Vì vậy', contradiction: 'Không' },
  zh: { question: '正确', entailment: '是的', neutral: '所以', contradiction: '不是的' },
};

const LABEL_NAMES = ['entailment', 'neutral', 'contradiction'];

function label(o: Record<string, unknown>, field: string, rec: SourceRecord): number {
  const v = o[field];
  if (typeof v === 'string' && LABEL_NAMES.includes(v.trim())) return LABEL_NAMES.indexOf(v.trim());
  if (typeof v === 'string' && !/^\s*-?\d+\s*$/.test(v)) {
    throw new RecordError(`${rec.where}: field '${field}' must be 0..2 or one of ${LABEL_NAMES.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return checkLabel(int(o, field, rec), 3, field, rec);
}

export function parseXnli(text: string, opts: { language?: string } = {}): ParsedTask {
  const [language, w] = requireLanguage('xnli', opts.language, XNLI_WORDS);
  const warnings: string[] = [];
  const head = stripBom(text).trimStart();
  const tsv = !(head.startsWith('{') || head.startsWith('['));
  const records = tsv ? readTsvRecords('xnli', text, ['gold_label', 'sentence1', 'sentence2']) : readJsonRecords('xnli', text, warnings);
  const items = collect(records, warnings, (rec) => {
    const o = asObject(rec);
    if (tsv && typeof o.language === 'string' && o.language !== language) return null;
    const premise = str(o, tsv ? 'sentence1' : 'premise', rec);
    const hypothesis = str(o, tsv ? 'sentence2' : 'hypothesis', rec);
    const gold = label(o, tsv ? 'gold_label' : 'label', rec);
    const choices = [w.entailment, w.neutral, w.contradiction].map((x) => `${x}, ${hypothesis}`);
    return contextItem(rec.where, `${premise}, ${w.question}?`, choices, gold);
  });
  return finish('xnli', language, items, warnings);
}
