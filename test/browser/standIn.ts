/**
 * A stand-in for the bundled model folder (models/polyprune-ml/): the stories260K fixture plus a
 * split.json with two languages and their calibration and evaluation texts, so the UI tests do not
 * depend on the trained default model. Serve it in place of dist/models/polyprune-ml/.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const FIXTURE_DIR = path.resolve(process.cwd(), '../shared/fixtures/stories260K');

export const EVAL_TEXT: Record<string, string> = {
  en: 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. One day she found a big red ball under a tree. '.repeat(3),
  de: 'Es war einmal ein kleines Mädchen namens Lily. Sie spielte gern mit ihren Freunden draußen im Park. Eines Tages fand sie einen großen roten Ball unter einem Baum. '.repeat(3),
};

export const CALIB_TEXT: Record<string, string> = {
  en: 'Tom had a small dog called Max. Every morning they went for a walk to the river and looked at the ducks. Max liked to bark at the birds, and Tom laughed. '.repeat(4),
  de: 'Tom hatte einen kleinen Hund namens Max. Jeden Morgen gingen sie zum Fluss und schauten die Enten an. Max bellte gern die Vögel an, und Tom lachte. '.repeat(4),
};

export function makeBundledStandIn(dir: string): void {
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json']) copyFileSync(path.join(FIXTURE_DIR, f), path.join(dir, f));
  writeFileSync(path.join(dir, 'split.json'), JSON.stringify({ languages: { en: {}, de: {} } }));
  for (const [sub, texts] of [
    ['eval', EVAL_TEXT],
    ['calib', CALIB_TEXT],
  ] as const) {
    mkdirSync(path.join(dir, sub));
    for (const [lang, text] of Object.entries(texts)) writeFileSync(path.join(dir, sub, `${lang}.txt`), text);
  }
}
