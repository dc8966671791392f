/**
 * Language identification of calibration text with franc-min (trigram profiles of 82 languages,
 * ISO 639-3 codes), mapped to the ISO 639-1 codes the rest of PolyPrune uses ('de', 'sw', 'zh').
 * Text too short or too mixed to tell gives `language: null`: the caller asks the user.
 */
import { francAll } from 'franc-min';

/** ISO 639-3 (as franc-min returns) -> ISO 639-1 where one exists. */
const ISO1: Record<string, string> = {
  arb: 'ar', ben: 'bn', bul: 'bg', ces: 'cs', cmn: 'zh', dan: 'da', deu: 'de', ell: 'el', eng: 'en', fra: 'fr', hau: 'ha', hin: 'hi', hrv: 'hr', hun: 'hu',
  ibo: 'ig', ind: 'id', ita: 'it', jpn: 'ja', kor: 'ko', mar: 'mr', nld: 'nl', pes: 'fa', pol: 'pl', por: 'pt', ron: 'ro', rus: 'ru', slk: 'sk', som: 'so',
  spa: 'es', srp: 'sr', swe: 'sv', swh: 'sw', tam: 'ta', tel: 'te', tha: 'th', tur: 'tr', ukr: 'uk', urd: 'ur', uzn: 'uz', vie: 'vi', yor: 'yo', zlm: 'ms',
  amh: 'am', azj: 'az', bel: 'be', fin: 'fi', guj: 'gu', kan: 'kn', mal: 'ml', mya: 'my', npi: 'ne', pan: 'pa', sin: 'si', uig: 'ug', zul: 'zu', xho: 'xh',
  kin: 'rw', nya: 'ny', sna: 'sn', tgl: 'tl', ory: 'or', kaz: 'kk', khm: 'km', ckb: 'ku', cat: 'ca', glg: 'gl', lit: 'lt', lav: 'lv', est: 'et', slv: 'sl',
  mkd: 'mk', aka: 'ak', ful: 'ff', ilo: 'ilo', jav: 'jv', sun: 'su', ceb: 'ceb', mad: 'mad', mai: 'mai', bho: 'bho', mag: 'mag', hat: 'ht', plt: 'mg',
  nso: 'nso', qug: 'qu', run: 'rn', skr: 'skr', tir: 'ti', tuk: 'tk', tzm: 'tzm', zyb: 'za', hne: 'hne', hil: 'hil', koi: 'koi', hms: 'hms', nan: 'nan',
  yue: 'yue', knc: 'kr', suk: 'suk', hye: 'hy', kat: 'ka',
};

export interface LanguageGuess {
  /** ISO 639-1 code (or the 639-3 code when there is none); null when the text cannot be identified. */
  language: string | null;
  /** franc-min's ISO 639-3 code ('und' when undetermined). */
  iso3: string;
  /** franc's score of the best guess relative to the runner-up: 1 = clear, near 0 = ambiguous. */
  margin: number;
}

/** Fewer letters than this are not identified (franc's own minimum is 10 characters). */
export const MIN_LANGID_CHARS = 20;

/**
 * Identify the language of `text` from a sample of at most `sampleChars` characters taken from the
 * start, the middle and the end (so a title or a licence header does not decide alone).
 */
export function identifyLanguage(text: string, sampleChars = 6000): LanguageGuess {
  const t = text.replace(/\s+/g, ' ').trim();
  const letters = t.replace(/[\s\d\p{P}\p{S}]/gu, '').length;
  if (letters < MIN_LANGID_CHARS) return { language: null, iso3: 'und', margin: 0 };
  const third = Math.floor(sampleChars / 3);
  const sample = t.length <= sampleChars ? t : `${t.slice(0, third)} ${t.slice(Math.floor(t.length / 2) - third / 2, Math.floor(t.length / 2) + third / 2)} ${t.slice(-third)}`;
  const ranked = francAll(sample, { minLength: MIN_LANGID_CHARS });
  const [best, second] = ranked;
  if (!best || best[0] === 'und') return { language: null, iso3: 'und', margin: 0 };
  // francAll scores the best as 1 and the others relative to it; a runner-up close to 1 is a coin toss.
  const margin = second ? 1 - second[1] : 1;
  if (margin < 0.01) return { language: null, iso3: best[0], margin };
  return { language: ISO1[best[0]] ?? best[0], iso3: best[0], margin };
}

/**
 * Interim (branch i9): the CLI's `grid` (i8core) identifies files from their bytes; i8core and i8ui
 * each wrote this file, and their merge is pending. Same contract as i8core's: null when unknown.
 */
export function identifyLanguageOfBytes(bytes: Uint8Array, maxBytes = 4 << 20): { language: string } | null {
  const head = bytes.byteLength > maxBytes ? bytes.subarray(0, maxBytes) : bytes;
  const g = identifyLanguage(new TextDecoder('utf-8', { fatal: false }).decode(head));
  return g.language ? { language: g.language } : null;
}
