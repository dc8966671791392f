/**
 * XCOPA (Ponti et al. 2020), lm-eval template: EleutherAI/lm-evaluation-harness
 * lm_eval/tasks/xcopa/utils.py (and default_<lang>.yaml). Input: the published JSONL
 * (`{premise, choice1, choice2, question: 'cause'|'effect', label, idx}`).
 *
 * context = premise.strip() without its last character (the full stop) + ' ' + connector
 * continuation = ' ' + choice with its first character lowercased; label 0/1.
 */
import type { ParsedTask } from '../types';
import { asObject, collect, contextItem, dropLastChar, finish, int, lowerFirst, readJsonRecords, RecordError, requireLanguage, str } from './common';

/** Connectors for question = cause / effect, per language (lm-eval xcopa utils.py; en as in lm-eval's COPA). */
export const XCOPA_CONNECTORS: Readonly<Record<string, { cause: string; effect: string }>> = {
  en: { cause: 'because', effect: 'therefore' },
  et: { cause: 'sest', effect: 'seetõttu' },
  ht: { cause: 'poukisa', effect: 'donk sa' },
  it: { cause: 'perché', effect: 'quindi' },
  id: { cause: 'karena', effect: 'maka' },
  qu: { cause: 'imataq', effect: 'chaymi' },
  sw: { cause: 'kwa sababu', effect: 'kwa hiyo' },
  zh: { cause: '因为', effect: '所以' },
  ta: { cause: 'காரணமாக', effect: 'எனவே' },
  th: { cause: 'เพราะ', effect: 'ดังนั้น' },
  tr: { cause: 'çünkü', effect: 'bu yüzden' },
  vi: { cause: 'bởi vì', effect: 'vì vậy' },
};

export function parseXcopa(text: string, opts: { language?: string } = {}): ParsedTask {
  const [language, conn] = requireLanguage('xcopa', opts.language, XCOPA_CONNECTORS);
  const warnings: string[] = [];
  const records = readJsonRecords('xcopa', text, warnings);
  const items = collect(records, warnings, (rec) => {
    const o = asObject(rec);
    const premise = str(o, 'premise', rec);
    const question = str(o, 'question', rec);
    if (question !== 'cause' && question !== 'effect') {
      throw new RecordError(`${rec.where}: field 'question' must be 'cause' or 'effect', got ${JSON.stringify(question)}`);
    }
    const choices = [lowerFirst(str(o, 'choice1', rec)), lowerFirst(str(o, 'choice2', rec))];
    const label = int(o, 'label', rec);
    if (label !== 0 && label !== 1) throw new RecordError(`${rec.where}: label ${label} out of range 0..1`);
    const id = o.idx !== undefined ? `idx ${String(o.idx)}` : rec.where;
    return contextItem(id, `${dropLastChar(premise.trim())} ${conn[question]}`, choices, label);
  });
  return finish('xcopa', language, items, warnings);
}
