/**
 * Belebele (Bandarkar et al. 2023), lm-eval template: EleutherAI/lm-evaluation-harness
 * lm_eval/tasks/belebele/_default_template_yaml:
 *
 * context = 'P: ' + flores_passage + '\nQ: ' + question.strip() + '\nA: ' + mc_answer1 + '\nB: ' + mc_answer2
 *           + '\nC: ' + mc_answer3 + '\nD: ' + mc_answer4 + '\nAnswer：'
 * choices = ['A', 'B', 'C', 'D'] (continuation ' A' ...); label = correct_answer_num - 1.
 *
 * Note the prompt ends in a FULLWIDTH COLON (U+FF1A) in lm-eval's template; kept as is so scores
 * match lm-eval's belebele_<lang> tasks.
 *
 * Input: the published JSONL / JSON array (facebook/belebele `<lang>.jsonl`). The language defaults
 * to the first record's `dialect` (e.g. 'eng_Latn').
 */
import type { ParsedTask } from '../types';
import { asObject, checkLabel, collect, contextItem, finish, int, readJsonRecords, str } from './common';

export const BELEBELE_LETTERS = ['A', 'B', 'C', 'D'] as const;

export function parseBelebele(text: string, opts: { language?: string } = {}): ParsedTask {
  const warnings: string[] = [];
  const records = readJsonRecords('belebele', text, warnings);
  let language = opts.language;
  const items = collect(records, warnings, (rec) => {
    const o = asObject(rec);
    const passage = str(o, 'flores_passage', rec);
    const question = str(o, 'question', rec);
    const answers = [1, 2, 3, 4].map((k) => str(o, `mc_answer${k}`, rec, true));
    const label = checkLabel(int(o, 'correct_answer_num', rec), 4, 'correct_answer_num', rec, 1);
    if (language === undefined && typeof o.dialect === 'string') language = o.dialect;
    const context =
      `P: ${passage}\nQ: ${question.trim()}\n` + answers.map((a, k) => `${BELEBELE_LETTERS[k]}: ${a}\n`).join('') + 'Answer\uff1a';
    const id = o.link !== undefined && o.question_number !== undefined ? `${String(o.link)}#${String(o.question_number)}` : rec.where;
    return contextItem(id, context, [...BELEBELE_LETTERS], label);
  });
  return finish('belebele', language ?? 'und', items, warnings);
}
