/**
 * XStoryCloze (Lin et al. 2021, XGLM), lm-eval template: EleutherAI/lm-evaluation-harness
 * lm_eval/tasks/xstorycloze/default_*.yaml.
 *
 * context = input_sentence_1..4 joined by ' '; choices = [sentence_quiz1, sentence_quiz2];
 * label = answer_right_ending - 1; continuation = ' ' + choice.
 *
 * Input: JSONL / JSON array with the Hugging Face field names (juletxara/xstory_cloze), or the
 * published TSV/CSV-style tab-separated file with the original header (InputSentence1..4,
 * RandomFifthSentenceQuiz1/2, AnswerRightEnding, InputStoryid).
 */
import type { ParsedTask } from '../types';
import { asObject, checkLabel, collect, contextItem, finish, int, pick, readJsonRecords, readTsvRecords, str, stripBom } from './common';

const FIELDS = {
  s: [1, 2, 3, 4].map((i) => [`input_sentence_${i}`, `InputSentence${i}`]),
  q1: ['sentence_quiz1', 'RandomFifthSentenceQuiz1'],
  q2: ['sentence_quiz2', 'RandomFifthSentenceQuiz2'],
  answer: ['answer_right_ending', 'AnswerRightEnding'],
  id: ['story_id', 'InputStoryid'],
} as const;

export function parseXstorycloze(text: string, opts: { language?: string } = {}): ParsedTask {
  const warnings: string[] = [];
  const head = stripBom(text).trimStart();
  const records =
    head.startsWith('{') || head.startsWith('[')
      ? readJsonRecords('xstorycloze', text, warnings)
      : readTsvRecords('xstorycloze', text, ['InputSentence1', 'RandomFifthSentenceQuiz1', 'AnswerRightEnding']);
  const items = collect(records, warnings, (rec) => {
    const o = asObject(rec);
    const story = FIELDS.s.map((alts) => str(o, pick(o, alts), rec)).join(' ');
    const choices = [str(o, pick(o, FIELDS.q1), rec), str(o, pick(o, FIELDS.q2), rec)];
    const answerField = pick(o, FIELDS.answer);
    const label = checkLabel(int(o, answerField, rec), 2, answerField, rec, 1);
    const idField = pick(o, FIELDS.id);
    const id = typeof o[idField] === 'string' ? String(o[idField]) : rec.where;
    return contextItem(id, story, choices, label);
  });
  return finish('xstorycloze', opts.language ?? 'und', items, warnings);
}
