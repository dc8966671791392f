/**
 * Language identification of calibration and evaluation text, shared by the page and the CLI:
 * npm `franc-min` (trigram model of the ~80 most spoken languages, ISO 639-3 codes), reported as
 * the ISO 639-1 code the rest of PolyPrune uses (`de`, `zh`, `sw`) where one exists.
 *
 * Only a sample of a large text is looked at (a few slices spread over the first megabytes), so a
 * file of hundreds of MB is identified without reading or scanning all of it.
 */
import { francAll } from 'franc-min';
import { toIso6391 } from '../common/languages';

export { toIso6391 };


export interface LanguageGuess {
  /** ISO 639-1 where one exists (`de`), otherwise franc's ISO 639-3 code. */
  language: string;
  /** franc's ISO 639-3 code. */
  iso6393: string;
  /**
   * How clearly the best guess wins, in [0, 1]: 1 - (second best score). Low values (< 0.1) mean
   * closely related candidates (e.g. Bulgarian vs Russian) and deserve a look from the user.
   */
  confidence: number;
  /** The next candidates, best first. */
  alternatives: string[];
}

/** Characters looked at, at most (in a few slices spread over the text). */
export const LANGID_SAMPLE_CHARS = 12_000;
/** Fewer letters than this: no guess. */
export const LANGID_MIN_CHARS = 20;

function sample(text: string): string {
  if (text.length <= LANGID_SAMPLE_CHARS) return text;
  const k = 4;
  const len = LANGID_SAMPLE_CHARS / k;
  const parts: string[] = [];
  for (let i = 0; i < k; i++) {
    const start = Math.floor(((text.length - len) * i) / (k - 1));
    parts.push(text.slice(start, start + len));
  }
  return parts.join('\n');
}

/**
 * The most likely language of `text`, or null when it cannot be told (too short, no letters, or
 * franc answers 'und').
 */
export function identifyLanguage(text: string): LanguageGuess | null {
  const s = sample(text);
  if (s.replace(/[\s\p{P}\p{N}\p{S}]/gu, '').length < LANGID_MIN_CHARS) return null;
  const all = francAll(s, { minLength: LANGID_MIN_CHARS });
  if (!all.length || all[0][0] === 'und') return null;
  const [best] = all[0];
  const second = all[1]?.[1] ?? 0;
  return { language: toIso6391(best), iso6393: best, confidence: Math.max(0, Math.min(1, 1 - second)), alternatives: all.slice(1, 4).map(([c]) => toIso6391(c)) };
}

/**
 * Sample the first `maxBytes` of a large byte buffer as text for identification without decoding
 * all of it (invalid UTF-8 at the cut is tolerated).
 */
export function identifyLanguageOfBytes(bytes: Uint8Array, maxBytes = 4 << 20): LanguageGuess | null {
  const head = bytes.byteLength > maxBytes ? bytes.subarray(0, maxBytes) : bytes;
  return identifyLanguage(new TextDecoder('utf-8', { fatal: false }).decode(head));
}
