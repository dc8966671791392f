/**
 * XWinograd (Tikhonov & Ryabinin 2021; Muennighoff et al. 2022), lm-eval template:
 * EleutherAI/lm-evaluation-harness lm_eval/tasks/xwinograd/utils.py + xwinograd_common_yaml.
 * Partial scoring in lm-eval's "multiple input" mode: one context per option, one shared target.
 *
 * i = index of the first '_' in sentence
 * context_k = sentence[:i] + option_k            (k = 1, 2; these are lm-eval's doc_to_choice)
 * continuation = ' ' + sentence[i+1:].strip()    (doc_to_target, after the default ' ' delimiter)
 * label = answer - 1 (answer is 1 or 2, as a number or a string).
 *
 * Input: the published JSONL `{lang, sentence, option1, option2, answer}`. The language defaults to
 * the first record's `lang` ('jp' is reported as 'ja').
 */
import type { ParsedTask } from '../types';
import { asObject, checkLabel, collect, finish, int, readJsonRecords, RecordError, str } from './common';

export function parseXwinograd(text: string, opts: { language?: string } = {}): ParsedTask {
  const warnings: string[] = [];
  const records = readJsonRecords('xwinograd', text, warnings);
  let language = opts.language;
  const items = collect(records, warnings, (rec) => {
    const o = asObject(rec);
    const sentence = str(o, 'sentence', rec);
    const i = sentence.indexOf('_');
    if (i < 0) throw new RecordError(`${rec.where}: field 'sentence' has no '_' blank`);
    const options = [str(o, 'option1', rec), str(o, 'option2', rec)];
    const label = checkLabel(int(o, 'answer', rec), 2, 'answer', rec, 1);
    if (language === undefined && typeof o.lang === 'string') language = o.lang === 'jp' ? 'ja' : o.lang;
    const contexts = options.map((opt) => sentence.slice(0, i) + opt);
    const continuation = ' ' + sentence.slice(i + 1).trim();
    return { id: rec.where, requests: contexts.map((context) => ({ context, continuation })), choices: contexts, label };
  });
  return finish('xwinograd', language ?? 'und', items, warnings);
}
