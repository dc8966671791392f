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
   * How clearly the text is in this one language, in [0, 1]: the share of the sampled text (in
   * pieces of about LANGID_CHUNK_CHARS) whose best guess is this language, scaled down when less than
   * LANGID_CLEAR_CHARS were looked at. Clean prose of a few KB gives 1; mixed text gives about the
   * share of its main language; a short text at most its length over LANGID_CLEAR_CHARS. Below
   * LANGID_CLEAR the page asks the user to check the language.
   */
  confidence: number;
  /** How far the best guess is ahead of the runner-up on franc's scores in the pieces it won (1 - the runner-up's relative score, averaged); near 0: random letters or a tie. */
  margin: number;
  /** The next candidates, best first. */
  alternatives: string[];
}

/** Characters looked at, at most (in a few slices spread over the text). */
export const LANGID_SAMPLE_CHARS = 12_000;
/** Fewer letters than this: no guess. */
export const LANGID_MIN_CHARS = 20;
/** Size of the pieces identified one by one (franc itself looks at 2048 characters at most). */
export const LANGID_CHUNK_CHARS = 1500;
/** Text shorter than this is never called clear: too little to tell closely related languages apart. */
export const LANGID_CLEAR_CHARS = 4 * LANGID_CHUNK_CHARS;
/** Confidence from which a guess counts as clear. */
export const LANGID_CLEAR = 0.75;

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

/** Pieces of about LANGID_CHUNK_CHARS, cut at white space; a short tail joins the piece before it. */
function chunks(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    let end = Math.min(s.length, i + LANGID_CHUNK_CHARS);
    if (end < s.length) {
      const ws = s.lastIndexOf(' ', end);
      const nl = s.lastIndexOf('\n', end);
      const cut = Math.max(ws, nl);
      if (cut > i + LANGID_CHUNK_CHARS / 2) end = cut;
    }
    out.push(s.slice(i, end));
    i = end;
  }
  if (out.length > 1 && out[out.length - 1].length < LANGID_CHUNK_CHARS / 3) out[out.length - 2] += out.pop()!;
  return out;
}

const letters = (s: string): number => s.replace(/[\s\p{P}\p{N}\p{S}]/gu, '').length;

/**
 * The most likely language of `text`, or null when it cannot be told (too short, no letters, or
 * franc answers 'und'). The sample is identified piece by piece (franc reads only the first 2048
 * characters of what it is given): the language of most of the text wins, and `confidence` says how
 * much of the text agrees.
 */
export function identifyLanguage(text: string): LanguageGuess | null {
  const s = sample(text);
  if (letters(s) < LANGID_MIN_CHARS) return null;
  const votes = new Map<string, number>();
  const scores = new Map<string, number>();
  /** Per language: its pieces' lead over their runner-up, weighted by their letters. */
  const leads = new Map<string, number>();
  let weight = 0;
  for (const c of chunks(s)) {
    const w = letters(c);
    if (w < LANGID_MIN_CHARS) continue;
    const all = francAll(c, { minLength: LANGID_MIN_CHARS });
    if (!all.length || all[0][0] === 'und') continue;
    weight += w;
    votes.set(all[0][0], (votes.get(all[0][0]) ?? 0) + w);
    leads.set(all[0][0], (leads.get(all[0][0]) ?? 0) + w * (1 - (all[1]?.[1] ?? 0)));
    for (const [code, score] of all) scores.set(code, (scores.get(code) ?? 0) + w * score);
  }
  if (!weight) return null;
  // The language most of the text is in; ties go to the better mean score.
  const ranked = [...scores.keys()].sort((a, b) => (votes.get(b) ?? 0) - (votes.get(a) ?? 0) || scores.get(b)! - scores.get(a)!);
  const best = ranked[0];
  const agreement = votes.get(best)! / weight;
  const coverage = Math.min(1, s.length / LANGID_CLEAR_CHARS);
  return {
    language: toIso6391(best),
    iso6393: best,
    confidence: Math.max(0, Math.min(1, agreement * coverage)),
    margin: Math.max(0, Math.min(1, leads.get(best)! / votes.get(best)!)),
    alternatives: ranked
      .slice(1)
      .sort((a, b) => scores.get(b)! - scores.get(a)!)
      .slice(0, 3)
      .map((c) => toIso6391(c)),
  };
}

/**
 * Sample the first `maxBytes` of a large byte buffer as text for identification without decoding
 * all of it (invalid UTF-8 at the cut is tolerated).
 */
export function identifyLanguageOfBytes(bytes: Uint8Array, maxBytes = 4 << 20): LanguageGuess | null {
  const head = bytes.byteLength > maxBytes ? bytes.subarray(0, maxBytes) : bytes;
  return identifyLanguage(new TextDecoder('utf-8', { fatal: false }).decode(head));
}
