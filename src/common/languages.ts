/**
 * Language codes: PolyPrune names languages by ISO 639-1 (`de`, `zh`, `sw`) where one exists.
 * franc (language identification) and Belebele's task names use ISO 639-3; this maps them.
 */
/** ISO 639-3 (franc-min's codes) to ISO 639-1 where there is one. */
export const TO_639_1: Record<string, string> = {
  arb: 'ar', ben: 'bn', bel: 'be', bos: 'bs', bul: 'bg', ces: 'cs', cmn: 'zh', deu: 'de', eng: 'en', fra: 'fr', hau: 'ha',
  hin: 'hi', hrv: 'hr', hun: 'hu', ibo: 'ig', ind: 'id', ita: 'it', jav: 'jv', jpn: 'ja', kaz: 'kk', kin: 'rw', kor: 'ko',
  lin: 'ln', mar: 'mr', nld: 'nl', nya: 'ny', pes: 'fa', pol: 'pl', por: 'pt', ron: 'ro', run: 'rn', rus: 'ru', som: 'so',
  spa: 'es', srp: 'sr', sun: 'su', swe: 'sv', swh: 'sw', tam: 'ta', tel: 'te', tgl: 'tl', tha: 'th', tur: 'tr', ukr: 'uk',
  urd: 'ur', uzn: 'uz', vie: 'vi', yor: 'yo', zlm: 'ms', zul: 'zu', azj: 'az', ckb: 'ku', npi: 'ne', plt: 'mg', pbu: 'ps',
  guj: 'gu', kan: 'kn', mal: 'ml', pan: 'pa', amh: 'am', ell: 'el', heb: 'he', ory: 'or', sin: 'si', mya: 'my', khm: 'km',
  aka: 'ak', ewe: 'ee', ful: 'ff', fuv: 'ff', kat: 'ka', hye: 'hy', uig: 'ug', tat: 'tt', kir: 'ky', tuk: 'tk', tgk: 'tg',
};

/** ISO 639-1 code for an ISO 639-3 code (the 639-3 code itself when there is none). */
export function toIso6391(code: string): string {
  return TO_639_1[code] ?? code;
}
