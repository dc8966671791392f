import { describe, expect, it } from 'vitest';
import { PolyPruneError } from '../../src/common/errors';
import { parseTask, TASKS } from '../../src/eval/tasks/index';
import { generalDetokenize } from '../../src/eval/tasks/pawsx';
import { TASK_NAMES, type ParsedTask } from '../../src/eval/types';
import { sharedText } from './helpers';

const jsonl = (...recs: unknown[]) => recs.map((r) => JSON.stringify(r)).join('\n') + '\n';

function expectInvalid(fn: () => unknown, re: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PolyPruneError);
    expect((e as PolyPruneError).code).toBe('TASK_INVALID');
    expect((e as Error).message).toMatch(re);
    return;
  }
  throw new Error('expected TASK_INVALID');
}

describe('task registry', () => {
  it('has a parser for every task name and rejects unknown ones, listing the supported', () => {
    expect(Object.keys(TASKS).sort()).toEqual([...TASK_NAMES].sort());
    expect(() => parseTask('hellaswag', '{}')).toThrow(/Unknown task 'hellaswag'. Supported: xcopa, /);
    expect(() => parseTask('xcopa', jsonl({}), {})).toThrow(/xcopa needs a language/);
    expect(() => parseTask('xcopa', jsonl({}), { language: 'xx' })).toThrow(/no prompt template for language 'xx'. Supported: en, et, /);
  });
});

describe('XCOPA (real data)', () => {
  it('parses the Swahili test set with lm-eval connectors, full stop dropped and choices lowercased', () => {
    const t = parseTask('xcopa', sharedText('data/tasks/xcopa/data/sw/test.sw.jsonl'), { language: 'sw' });
    expect(t.items.length).toBe(500);
    expect(t.warnings).toEqual([]);
    const [a, b] = t.items;
    expect(a.requests).toEqual([
      { context: 'Kifaa kilikuwa kimefungwa kwenye mfuko vibofu kwa sababu', continuation: ' kikuwa nyepesi kuvunjika.' },
      { context: 'Kifaa kilikuwa kimefungwa kwenye mfuko vibofu kwa sababu', continuation: ' kilikuwa kidogo.' },
    ]);
    expect(a.choices).toEqual(['kikuwa nyepesi kuvunjika.', 'kilikuwa kidogo.']);
    expect(a.label).toBe(0);
    expect(b.requests[0]).toEqual({ context: 'Niliiacha mitupu mifuko yangu kwa hiyo', continuation: ' nilikipata tena kipande cha tiketi.' });
    expect(t.items.every((i) => i.label === 0 || i.label === 1)).toBe(true);
  });

  it('parses the Chinese test set (full-width full stop dropped, 因为/所以)', () => {
    const t = parseTask('xcopa', sharedText('data/tasks/xcopa/data/zh/test.zh.jsonl'), { language: 'zh' });
    expect(t.items.length).toBe(500);
    expect(t.items[0].requests[0]).toEqual({ context: '该物品用气泡包装纸包着 因为', continuation: ' 它很易碎。' });
    expect(t.items[1].requests[1]).toEqual({ context: '我掏空了口袋 所以', continuation: ' 我找到了一件武器。' });
  });
});

describe('XWinograd (real data, partial scoring)', () => {
  it('en: one context per option up to the blank, the shared rest of the sentence as continuation', () => {
    const t = parseTask('xwinograd', sharedText('data/tasks/xwinograd/xwinograd.en.jsonl'));
    expect(t.language).toBe('en');
    expect(t.items.length).toBe(2307); // every line of the shared copy
    expect(t.warnings).toEqual([]);
    const it0 = t.items[0];
    expect(it0.requests).toEqual([
      { context: 'The city councilmen refused the demonstrators a permit because The city councilmen', continuation: ' feared violence.' },
      { context: 'The city councilmen refused the demonstrators a permit because the demonstrators', continuation: ' feared violence.' },
    ]);
    expect(it0.label).toBe(0);
    expect(t.items[1].label).toBe(1);
    expect(it0.choices).toEqual(it0.requests.map((r) => r.context));
  });

  it('ru, fr, zh parse with their language from the data', () => {
    const ru = parseTask('xwinograd', sharedText('data/tasks/xwinograd/xwinograd.ru.jsonl'));
    const fr = parseTask('xwinograd', sharedText('data/tasks/xwinograd/xwinograd.fr.jsonl'));
    const zh = parseTask('xwinograd', sharedText('data/tasks/xwinograd/xwinograd.zh.jsonl'));
    expect([ru.language, fr.language, zh.language]).toEqual(['ru', 'fr', 'zh']);
    expect([ru.items.length, fr.items.length, zh.items.length]).toEqual([312, 81, 16]);
    expect(fr.items[0].requests[0]).toEqual({ context: "La coupe n'entre pas dans la valise marron, car La coupe", continuation: ' est trop grande.' });
    // zh: text right after '_' without spaces; the trailing space of the sentence is stripped.
    expect(zh.items[0].requests[1]).toEqual({ context: '市政府拒绝给示威者颁发游行许可证，因示威者', continuation: ' 担心暴力事件。' });
    for (const t of [ru, fr, zh]) {
      expect(t.warnings).toEqual([]);
      expect(t.items.every((i) => i.requests.length === 2 && i.requests[0].continuation === i.requests[1].continuation)).toBe(true);
    }
  });
});

describe('CLAMS (real data, minimal pairs)', () => {
  it('en simple agreement: True/False pairs, empty context, BLiMP-style continuation', () => {
    const t = parseTask('clams', sharedText('data/tasks/clams/en_evalset/simple_agrmt.txt'), { language: 'en' });
    expect(t.items.length).toBe(140);
    expect(t.warnings).toEqual([]);
    expect(t.items[0]).toEqual({
      id: 'line 1',
      requests: [
        { context: '', continuation: ' the author laughs' },
        { context: '', continuation: ' the author laugh' },
      ],
      choices: ['the author laughs', 'the author laugh'],
      label: 0,
    });
  });

  it('de subject relative clauses', () => {
    const t = parseTask('clams', sharedText('data/tasks/clams/de_evalset/subj_rel.txt'), { language: 'de' });
    expect(t.items.length).toBe(11200);
    expect(t.items[0].choices).toEqual(['die Schriftsteller , die die Wächter mögen , schwimmen', 'die Schriftsteller , die die Wächter mögen , schwimmt']);
    expect(t.language).toBe('de');
  });
});

describe('templates on hand-made records (formats without shared data)', () => {
  it('XStoryCloze: four sentences joined by spaces, answer_right_ending 1/2 (JSONL and original TSV)', () => {
    const rec = {
      story_id: 's1',
      input_sentence_1: 'Tom had a dog.',
      input_sentence_2: 'The dog was old.',
      input_sentence_3: 'One day it was sick.',
      input_sentence_4: 'Tom took it to the vet.',
      sentence_quiz1: 'The vet helped the dog.',
      sentence_quiz2: 'Tom ate the vet.',
      answer_right_ending: 1,
    };
    const t = parseTask('xstorycloze', jsonl(rec, { ...rec, story_id: 's2', answer_right_ending: 2 }), { language: 'en' });
    expect(t.items[0]).toEqual({
      id: 's1',
      requests: [
        { context: 'Tom had a dog. The dog was old. One day it was sick. Tom took it to the vet.', continuation: ' The vet helped the dog.' },
        { context: 'Tom had a dog. The dog was old. One day it was sick. Tom took it to the vet.', continuation: ' Tom ate the vet.' },
      ],
      choices: ['The vet helped the dog.', 'Tom ate the vet.'],
      label: 0,
    });
    expect(t.items[1].label).toBe(1);
    const tsv =
      'InputStoryid\tInputSentence1\tInputSentence2\tInputSentence3\tInputSentence4\tRandomFifthSentenceQuiz1\tRandomFifthSentenceQuiz2\tAnswerRightEnding\n' +
      's1\tTom had a dog.\tThe dog was old.\tOne day it was sick.\tTom took it to the vet.\tThe vet helped the dog.\tTom ate the vet.\t1\n';
    expect(parseTask('xstorycloze', tsv).items[0]).toEqual(t.items[0]);
  });

  it('XNLI: premise + ", right?" and " Yes/Also/No, hypothesis" (en); German words; TSV with language filter', () => {
    const t = parseTask('xnli', jsonl({ premise: 'The cat sat.', hypothesis: 'A cat sat.', label: 0 }), { language: 'en' });
    expect(t.items[0].requests).toEqual([
      { context: 'The cat sat., right?', continuation: ' Yes, A cat sat.' },
      { context: 'The cat sat., right?', continuation: ' Also, A cat sat.' },
      { context: 'The cat sat., right?', continuation: ' No, A cat sat.' },
    ]);
    expect(t.items[0].choices[2]).toBe('No, A cat sat.');
    const de = parseTask('xnli', jsonl({ premise: 'Er kam.', hypothesis: 'Er ging.', label: 2 }), { language: 'de' });
    expect(de.items[0].requests[2]).toEqual({ context: 'Er kam., richtig?', continuation: ' Nein, Er ging.' });
    expect(de.items[0].label).toBe(2);
    const tsv = 'language\tgold_label\tsentence1\tsentence2\nde\tneutral\tEr kam.\tEr ging.\nen\tentailment\tA.\tB.\n';
    const fromTsv = parseTask('xnli', tsv, { language: 'de' });
    expect(fromTsv.items.length).toBe(1);
    expect(fromTsv.items[0].label).toBe(1);
  });

  it('PAWS-X: empty context, no delimiter, lm-eval preprocessing, choices ordered No/Yes by label', () => {
    const tsv = 'id\tsentence1\tsentence2\tlabel\n7\tThe river is a tributary of the Leurda .\tThe Leurda is a tributary of the river .\t1\n';
    const t = parseTask('pawsx', tsv, { language: 'en' });
    expect(t.items[0]).toEqual({
      id: 'id 7',
      requests: [
        { context: '', continuation: 'The river is a tributary of the Leurda, right? No, the Leurda is a tributary of the river.' },
        { context: '', continuation: 'The river is a tributary of the Leurda, right? Yes, the Leurda is a tributary of the river.' },
      ],
      choices: [
        'The river is a tributary of the Leurda, right? No, the Leurda is a tributary of the river.',
        'The river is a tributary of the Leurda, right? Yes, the Leurda is a tributary of the river.',
      ],
      label: 1,
    });
    const fr = parseTask('pawsx', jsonl({ id: 1, sentence1: 'Il pleut.', sentence2: 'Il fait beau.', label: 0 }), { language: 'fr' });
    expect(fr.items[0].requests[0].continuation).toBe("Il pleut, n'est-ce pas? Non, il fait beau.");
    // lm-eval's general_detokenize drops the space on both sides of every '"'.
    expect(generalDetokenize('He did n\'t go ( far ) , " he " said .')).toBe('He didn\'t go (far),"he"said.');
  });

  it('Belebele: lm-eval P/Q/A-D prompt ending in a full-width colon, letter continuations', () => {
    const rec = {
      link: 'https://x',
      question_number: 1,
      flores_passage: 'The sky is blue.',
      question: ' What colour is the sky? ',
      mc_answer1: 'red',
      mc_answer2: 'blue',
      mc_answer3: 'green',
      mc_answer4: 'black',
      correct_answer_num: '2',
      dialect: 'eng_Latn',
    };
    const t = parseTask('belebele', jsonl(rec));
    expect(t.language).toBe('eng_Latn');
    const ctx = 'P: The sky is blue.\nQ: What colour is the sky?\nA: red\nB: blue\nC: green\nD: black\nAnswer\uff1a';
    expect(t.items[0].requests).toEqual(['A', 'B', 'C', 'D'].map((l) => ({ context: ctx, continuation: ` ${l}` })));
    expect(t.items[0].label).toBe(1);
    expect(t.items[0].id).toBe('https://x#1');
  });

  it('generic JSONL and the UDHR file format', () => {
    const t = parseTask('jsonl', jsonl({ context: 'Q: 2+2?', choices: ['4', '5'], label: 0, id: 'q1' }), { language: 'en' });
    expect(t.items[0]).toEqual({
      id: 'q1',
      requests: [
        { context: 'Q: 2+2?', continuation: ' 4' },
        { context: 'Q: 2+2?', continuation: ' 5' },
      ],
      choices: ['4', '5'],
      label: 0,
    });
    const zh = JSON.stringify({ language: 'zh', mc: { target_delimiter: '', items: [{ id: 'a1.1', context: '人人生而', choices: ['自由', '不同'], label: 0 }] } });
    const u = parseTask('udhr', zh);
    expect(u.language).toBe('zh');
    expect(u.items[0].requests[0]).toEqual({ context: '人人生而', continuation: '自由' });
  });
});

describe('bad input', () => {
  it('empty files and files without a valid item are TASK_INVALID', () => {
    for (const task of TASK_NAMES) expectInvalid(() => parseTask(task, ' \n\n', { language: 'en' }), /empty/);
    expectInvalid(() => parseTask('xwinograd', 'not json\nalso not\n'), /no valid items.*line 1: not valid JSON/);
    expectInvalid(() => parseTask('clams', 'Maybe\tsomething\n'), /no valid items/);
    expectInvalid(() => parseTask('pawsx', 'a\tb\n1\t2\n', { language: 'en' }), /lacks column\(s\) sentence1, sentence2, label/);
    expectInvalid(() => parseTask('udhr', '{"language":"en"}'), /mc\.items/);
  });

  it('malformed lines, missing fields and out-of-range labels become warnings naming field and line; the rest is kept', () => {
    const good = { premise: 'I fell.', choice1: 'It hurt.', choice2: 'I flew.', question: 'effect', label: 0, idx: 1 };
    const text = [
      JSON.stringify(good),
      '{"premise": "broken"',
      JSON.stringify({ ...good, idx: 2, choice2: undefined }),
      JSON.stringify({ ...good, idx: 3, label: 2 }),
      JSON.stringify({ ...good, idx: 4, question: 'why' }),
      '',
      JSON.stringify({ ...good, idx: 5, label: '1' }),
      '[1, 2]',
    ].join('\n');
    const t: ParsedTask = parseTask('xcopa', text, { language: 'en' });
    expect(t.items.map((i) => i.id)).toEqual(['idx 1', 'idx 5']);
    expect(t.items[1].label).toBe(1);
    expect(t.items[0].requests[0]).toEqual({ context: 'I fell therefore', continuation: ' it hurt.' });
    expect(t.warnings).toHaveLength(5);
    expect(t.warnings[0]).toMatch(/^line 2: not valid JSON/);
    expect(t.warnings[1]).toBe("line 3: missing field 'choice2'; skipped.");
    expect(t.warnings[2]).toBe('line 4: label 2 out of range 0..1; skipped.');
    expect(t.warnings[3]).toMatch(/^line 5: field 'question' must be 'cause' or 'effect'/);
    expect(t.warnings[4]).toMatch(/^line 8: expected a JSON object/);
  });

  it('per-format checks: answer out of range, missing blank, label names, stray CLAMS lines', () => {
    const w = parseTask(
      'xwinograd',
      jsonl(
        { lang: 'en', sentence: 'A _ b.', option1: 'x', option2: 'y', answer: '3' },
        { lang: 'en', sentence: 'No blank.', option1: 'x', option2: 'y', answer: 1 },
        { lang: 'en', sentence: 'A _ b.', option1: 'x', option2: 'y', answer: '2' },
      ),
    );
    expect(w.items).toHaveLength(1);
    expect(w.warnings).toEqual(['line 1: answer 3 out of range 1..2; skipped.', "line 2: field 'sentence' has no '_' blank; skipped."]);
    const x = parseTask('xnli', jsonl({ premise: 'a', hypothesis: 'b', label: 'maybe' }, { premise: 'a', hypothesis: 'b', label: 'contradiction' }), { language: 'en' });
    expect(x.items[0].label).toBe(2);
    expect(x.warnings[0]).toMatch(/^line 1: field 'label' must be 0..2 or one of entailment/);
    const b = parseTask('belebele', jsonl({ flores_passage: 'p', question: 'q', mc_answer1: 'a', mc_answer2: 'b', mc_answer3: 'c', mc_answer4: 'd', correct_answer_num: '5' }, { flores_passage: 'p', question: 'q', mc_answer1: 'a', mc_answer2: 'b', mc_answer3: 'c', correct_answer_num: '1' }, { flores_passage: 'p', question: 'q', mc_answer1: 'a', mc_answer2: 'b', mc_answer3: 'c', mc_answer4: 'd', correct_answer_num: 4 }));
    expect(b.items).toHaveLength(1);
    expect(b.warnings).toEqual(['line 1: correct_answer_num 5 out of range 1..4; skipped.', "line 2: missing field 'mc_answer4'; skipped."]);
    const c = parseTask('clams', 'False\tstray\nTrue\ta b\nFalse\ta c\nnonsense\nTrue\tlonely\n');
    expect(c.items).toHaveLength(1);
    expect(c.warnings).toEqual([
      'line 1: ungrammatical sentence without a preceding True line; skipped.',
      "line 4: expected 'True<TAB>sentence' or 'False<TAB>sentence'; skipped.",
      'line 5: grammatical sentence without a following False line; skipped.',
    ]);
    const g = parseTask('jsonl', jsonl({ context: 'c', choices: ['a'], label: 0 }, { context: 'c', choices: ['a', 'b'], label: 0 }, { choices: ['a', 'b'], label: 1 }));
    expect(g.items).toHaveLength(1);
    expect(g.warnings).toEqual(["line 1: field 'choices' must be an array of at least 2 strings; skipped.", "line 3: missing field 'context'; skipped."]);
  });
});
