/**
 * PAWS-X (Yang et al. 2019), lm-eval template: EleutherAI/lm-evaluation-harness
 * lm_eval/tasks/paws-x/_generate_config.py, pawsx_template_yaml, paws_<lang>.yaml and utils.py
 * (`process_docs_paraphrases`), in the version after PR #2434 (Nov 2024) which put the choices in
 * label order (0 = not a paraphrase -> "No", 1 = paraphrase -> "Yes") and fixed French "Non".
 *
 * Document preprocessing (lm-eval `process_docs_paraphrases`): both sentences detokenized
 * (" n't" -> "n't", " )" -> ")", "( " -> "(", quote spacing, " ." " ," " '" -> no space) and
 * stripped; a final '.', ',' or ';' removed from sentence1; the first letter of sentence2 lowercased.
 *
 * context = '' (so lm-eval scores after the prefix token), target delimiter = '';
 * choices = [s1 + ', ' + Q + '? ' + NO + ', ' + s2, s1 + ', ' + Q + '? ' + YES + ', ' + s2].
 *
 * Input: the published TSV (`id  sentence1  sentence2  label` with a header), or JSONL / JSON array
 * with the same fields (Hugging Face google-research-datasets/paws-x). Rows with an empty sentence
 * are dropped, as lm-eval does (reported as warnings here).
 */
import type { ParsedTask } from '../types';
import { asObject, checkLabel, collect, contextItem, finish, int, lowerFirst, readJsonRecords, readTsvRecords, requireLanguage, str, stripBom } from './common';

/** Question word, yes, no per language (lm-eval paws-x _generate_config.py; fr "Non" per PR #2434). */
export const PAWSX_WORDS: Readonly<Record<string, { question: string; yes: string; no: string }>> = {
  de: { question: 'richtig', yes: 'Ja', no: 'Nein' },
  en: { question: 'right', yes: 'Yes', no: 'No' },
  es: { question: 'verdad', yes: 'Sí', no: 'No' },
  fr: { question: "n'est-ce pas", yes: 'Oui', no: 'Non' },
  ja: { question: 'ですね', yes: 'はい', no: 'いいえ' },
  ko: { question: '맞죠', yes: '예', no: '아니요' },
  zh: { question: '对吧', yes: '是', no: '不是' },
};

/** lm-eval's `general_detokenize` (paws-x utils.py). */
export function generalDetokenize(s: string): string {
  return s
    .replaceAll(" n't", "n't")
    .replaceAll(' )', ')')
    .replaceAll('( ', '(')
    .replaceAll('" ', '"')
    .replaceAll(' "', '"')
    .replace(/ (['.,])/g, '$1');
}

export function parsePawsx(text: string, opts: { language?: string } = {}): ParsedTask {
  const [language, w] = requireLanguage('pawsx', opts.language, PAWSX_WORDS);
  const warnings: string[] = [];
  const head = stripBom(text).trimStart();
  const records =
    head.startsWith('{') || head.startsWith('[')
      ? readJsonRecords('pawsx', text, warnings)
      : readTsvRecords('pawsx', text, ['sentence1', 'sentence2', 'label']);
  const items = collect(records, warnings, (rec) => {
    const o = asObject(rec);
    let s1 = generalDetokenize(str(o, 'sentence1', rec)).trim();
    const s2 = lowerFirst(generalDetokenize(str(o, 'sentence2', rec)).trim());
    if (/[.,;]$/.test(s1)) s1 = s1.slice(0, -1);
    const gold = checkLabel(int(o, 'label', rec), 2, 'label', rec);
    const choices = [w.no, w.yes].map((ans) => `${s1}, ${w.question}? ${ans}, ${s2}`);
    const id = o.id !== undefined ? `id ${String(o.id)}` : rec.where;
    return contextItem(id, '', choices, gold, '');
  });
  return finish('pawsx', language, items, warnings);
}
