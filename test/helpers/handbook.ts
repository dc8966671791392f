import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SHARED, requireShared } from './fixture';

/** One language's lines of the Debian handbook in ../shared (fails loudly when it is missing). */
export const handbookLines = (loc: 'en-US' | 'de-DE'): string[] => readFileSync(requireShared(path.join(SHARED, `data/text/debian-handbook/${loc}.txt`)), 'utf8').split('\n');

/**
 * The texts the study tests calibrate and evaluate on: the first 600 lines of the English and German
 * handbooks (calibration), and held-out paragraphs of each (evaluation).
 */
export function handbookTexts() {
  const en = handbookLines('en-US');
  const de = handbookLines('de-DE');
  return {
    enText: { name: 'en.txt', text: en.slice(0, 600).join('\n'), language: 'en' },
    deText: { name: 'de.txt', text: de.slice(0, 600).join('\n'), language: 'de' },
    enEval: { name: 'en-eval.txt', text: en.slice(2371, 2600).join('\n\n') },
    deEval: { name: 'de-eval.txt', text: de.slice(1800, 2100).join('\n\n') },
  };
}
