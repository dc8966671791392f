/**
 * CLAMS syntactic minimal pairs (Mueller et al. 2020). Input: the published `<lang>_evalset/*.txt`
 * files, one `True<TAB>sentence` (grammatical) or `False<TAB>sentence` (ungrammatical) per line; each
 * True line is followed by its False variant(s).
 *
 * Scored like lm-eval's BLiMP tasks (lm_eval/tasks/blimp/_template_yaml: doc_to_text '',
 * doc_to_choice [sentence_good, sentence_bad], target 0, default ' ' delimiter): empty context (so the
 * prefix token is the context) and continuation ' ' + sentence; the grammatical sentence (choice 0)
 * should get the higher log-likelihood.
 */
import type { McItem, ParsedTask } from '../types';
import { assertNotEmpty, contextItem, finish, splitLines } from './common';

export function parseClams(text: string, opts: { language?: string } = {}): ParsedTask {
  assertNotEmpty('clams', text);
  const warnings: string[] = [];
  const items: McItem[] = [];
  let current: { line: number; good: string; bad: string[] } | null = null;
  const flush = () => {
    if (!current) return;
    if (current.bad.length === 0) warnings.push(`line ${current.line}: grammatical sentence without a following False line; skipped.`);
    else items.push(contextItem(`line ${current.line}`, '', [current.good, ...current.bad], 0));
    current = null;
  };
  splitLines(text).forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    const tab = raw.indexOf('\t');
    const flag = tab < 0 ? '' : raw.slice(0, tab).trim();
    const sentence = tab < 0 ? '' : raw.slice(tab + 1).trim();
    if (flag !== 'True' && flag !== 'False') {
      warnings.push(`line ${line}: expected 'True<TAB>sentence' or 'False<TAB>sentence'; skipped.`);
      return;
    }
    if (sentence === '') {
      warnings.push(`line ${line}: missing sentence after '${flag}'; skipped.`);
      return;
    }
    if (flag === 'True') {
      flush();
      current = { line, good: sentence, bad: [] };
    } else if (current) {
      current.bad.push(sentence);
    } else {
      warnings.push(`line ${line}: ungrammatical sentence without a preceding True line; skipped.`);
    }
  });
  flush();
  return finish('clams', opts.language ?? 'und', items, warnings);
}
