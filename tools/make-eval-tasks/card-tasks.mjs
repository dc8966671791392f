#!/usr/bin/env node
// Measures the bundled tasks (public/data/tasks) on the default model: dense, after Wanda 50 %
// calibrated on the task's own language, and after Wanda 50 % calibrated on English. The pruned
// models are always made by the `polyprune` CLI (`prune`); the items are scored either by the CLI
// (`--scorer cli`, the WGSL engine: `polyprune eval`) or by the numpy reference scorer
// (`--scorer np`, tools/make-eval-tasks/np_score.py: the same forward pass and scoring on the CPU,
// about 15x faster than the engine on Mesa lavapipe). Every result is cached in .tmp/card-tasks/
// (so a run can be resumed or split over several processes); `verify` compares the two scorers on
// the items both scored; `table` writes tools/make-eval-tasks/card-tasks.json and the markdown
// table into public/models/polyprune-ml/MODEL_CARD.md (section "Downstream tasks") and prints it.
//
// Usage (repo root, after `npm ci`):
//   node tools/make-eval-tasks/card-tasks.mjs run [--scorer cli|np] [--parts dense,en,own,en70] [--tasks swapfar,replace] [--langs ar,de,...] [--limit 200] [--reverse]
//   node tools/make-eval-tasks/card-tasks.mjs verify
//   node tools/make-eval-tasks/card-tasks.mjs table
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const MODEL = path.resolve('public/models/polyprune-ml');
const TASKS = path.resolve('public/data/tasks');
const CACHE = path.resolve('.tmp/card-tasks');
const OUT = path.resolve('tools/make-eval-tasks/card-tasks.json');
const CARD = path.join(MODEL, 'MODEL_CARD.md');
const PRUNE = { method: 'wanda', sparsity: '0.5', nsamples: '16', seqlen: '64', seed: '0' };

const index = JSON.parse(readFileSync(path.join(TASKS, 'index.json'), 'utf8'));
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i < 0 ? dflt : argv[i + 1];
};
const cli = (args) => JSON.parse(execFileSync(process.execPath, ['bin/polyprune.mjs', ...args, '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 }));
const cached = (key, fn) => {
  const f = path.join(CACHE, `${key}.json`);
  if (existsSync(f)) return JSON.parse(readFileSync(f, 'utf8'));
  const t0 = Date.now();
  const r = fn();
  r.seconds = (Date.now() - t0) / 1000;
  writeFileSync(f, JSON.stringify(r, null, 1));
  console.error(`${key}: ${r.acc !== undefined ? `acc ${r.acc.toFixed(3)} ± ${(r.acc_stderr ?? 0).toFixed(3)} (n ${r.n})` : 'done'} in ${r.seconds.toFixed(0)} s`);
  return r;
};

/**
 * A pruned copy of the model calibrated on `lang` (cached folder under .tmp/card-tasks/), made by
 * `polyprune prune` with the card's windows and seed. `setting`: `{method, sparsity}` or
 * `{method, nm: '2:4'}`; the folder is `<method><percent or nm>-<lang>` (`wanda-<lang>` for the
 * table's main columns, Wanda 50 %).
 */
const settingName = ({ method, sparsity, nm }) => (method === PRUNE.method && sparsity === PRUNE.sparsity ? method : `${method}${nm ? nm.replace(':', '') : Math.round(100 * Number(sparsity))}`);
function pruned(lang, setting = { method: PRUNE.method, sparsity: PRUNE.sparsity }) {
  const name = `${settingName(setting)}-${lang}`;
  const dir = path.join(CACHE, name);
  if (existsSync(path.join(dir, 'model.safetensors'))) return dir;
  cached(`prune-${name}`, () => {
    const pattern = setting.nm ? ['--nm', setting.nm] : ['--sparsity', setting.sparsity];
    const r = cli(['prune', '--model', MODEL, '--method', setting.method, ...pattern, '--calib', path.join(MODEL, 'calib', `${lang}.txt`), '--nsamples', PRUNE.nsamples, '--seqlen', PRUNE.seqlen, '--seed', PRUNE.seed, '--out', dir]);
    return { overall: r.report?.overall ?? r.overall ?? null };
  });
  return dir;
}

/** Extra column: English calibration at a higher sparsity (part `en70` of `run`), shown when measured. */
const EXTRA = { part: 'en70', tag: 'wanda70-en', sparsity: '0.7', title: 'Wanda 70 %, English calibration' };
/**
 * The page's default experiment setting (src/ui/store/experimentSlice.ts, chosen from `sweep`'s
 * numbers: docs/eval-tasks.md): part `chosen` of `run` scores it with own-language and with English
 * calibration; the table shows both with their paired difference from the dense model.
 */
const CHOSEN = { part: 'chosen', setting: { method: 'wanda', sparsity: '0.9' }, title: 'Wanda 90 %' };
const chosenTag = (lang) => `${settingName(CHOSEN.setting)}-${lang}`;

function evalKey(model, t, limit) {
  return `eval-${model}-${t.id}-${limit}`;
}

function run() {
  mkdirSync(CACHE, { recursive: true });
  const parts = opt('parts', 'dense,en,own').split(',');
  const kinds = opt('tasks', 'swapfar,replace').split(',');
  const langs = opt('langs', null)?.split(',');
  const reverse = argv.includes('--reverse');
  const limit = opt('limit', '200');
  const scorer = opt('scorer', 'np');
  const tasks = index.tasks.filter((t) => kinds.includes(t.id.split('.')[1]) && (!langs || langs.includes(t.language)));
  if (reverse) tasks.reverse();
  // A result already cached with another --limit counts as done (runs can be split and resumed).
  const done = (model, t) => existsSync(CACHE) && readdirSync(CACHE).some((f) => f.startsWith(evalKey(model, t, '')) && /-\d+\.json$/.test(f));
  const np = (model, dir, t) => execFileSync('python3', ['tools/make-eval-tasks/np_score.py', dir, path.join(TASKS, t.file), '--limit', limit, '--cache', CACHE, '--tag', model], { stdio: ['ignore', 'inherit', 'inherit'] });
  const evalOn = (model, dir, t) => (scorer === 'np' ? np(model, dir, t) : !done(model, t) && cached(evalKey(model, t, limit), () => cli(['eval', '--model', dir, '--task', t.task, '--data', path.join(TASKS, t.file), '--language', t.language, '--limit', limit])));
  for (const part of parts) {
    for (const t of tasks) {
      if (part === 'dense') evalOn('dense', MODEL, t);
      else if (part === 'en') evalOn('wanda-en', pruned('en'), t);
      else if (part === 'own') evalOn(`wanda-${t.language}`, pruned(t.language), t);
      else if (part === EXTRA.part) evalOn(EXTRA.tag, pruned('en', { method: 'wanda', sparsity: EXTRA.sparsity }), t);
      else if (part === CHOSEN.part) {
        evalOn(chosenTag(t.language), pruned(t.language, CHOSEN.setting), t);
        evalOn(chosenTag('en'), pruned('en', CHOSEN.setting), t);
      }
    }
  }
}

/** `wanda@0.7` or `wanda@2:4` -> a pruning setting. */
function parseSetting(text) {
  const [method, pat] = text.split('@');
  if (!method || !pat) throw new Error(`setting '${text}': expected <method>@<sparsity> or <method>@<n>:<m>, e.g. wanda@0.7, sparsegpt@2:4`);
  return pat.includes(':') ? { method, nm: pat } : { method, sparsity: pat };
}
const DEFAULT_SWEEP = 'wanda@0.5,wanda@2:4,wanda@0.7,wanda@0.8,wanda@0.6,sparsegpt@0.5,sparsegpt@2:4';
const LANGS = () => [...new Set(index.tasks.map((t) => t.language))];

/**
 * What makes pruning visible: for each setting, one pruned model per calibration language; each
 * scored on its own language's tasks, the English-calibrated one on every language's tasks (first
 * --limit items, numpy scorer), and every model's held-out perplexity in every language (first 16
 * windows of 64 tokens, `np_score.py ppl`). `--parts ppl,en,own` (default all three, in that order);
 * `--tasks swapfar` (default). Results are cached like `run`'s; `sweep-report` prints them.
 */
function sweep() {
  mkdirSync(CACHE, { recursive: true });
  const settings = opt('settings', DEFAULT_SWEEP).split(',').map(parseSetting);
  const kinds = opt('tasks', 'swapfar').split(',');
  const limit = opt('limit', '200');
  const langs = opt('langs', null)?.split(',') ?? LANGS();
  const files = (lang) => index.tasks.filter((t) => kinds.includes(t.id.split('.')[1]) && (lang === null || t.language === lang)).map((t) => path.join(TASKS, t.file));
  const np = (tag, dir, fs) => execFileSync('python3', ['tools/make-eval-tasks/np_score.py', dir, ...fs, '--limit', limit, '--cache', CACHE, '--tag', tag], { stdio: ['ignore', 'inherit', 'inherit'] });
  const ppl = (tag, dir) => {
    const out = path.join(CACHE, `ppl-${tag}.json`);
    if (!existsSync(out)) execFileSync('python3', ['tools/make-eval-tasks/np_score.py', 'ppl', dir, '--out', out], { stdio: ['ignore', 'inherit', 'inherit'] });
  };
  // Cheap parts first (prune, perplexity), then the English-calibrated model on every language's
  // tasks, then each own-language model on its own tasks: what to look at first when time is short.
  const parts = opt('parts', 'ppl,en,own').split(',');
  const order = ['en', ...langs.filter((l) => l !== 'en')];
  if (parts.includes('ppl')) {
    ppl('dense', MODEL);
    for (const setting of settings) for (const lang of order) ppl(`${settingName(setting)}-${lang}`, pruned(lang, setting));
  }
  if (parts.includes('en')) {
    np('dense', MODEL, files(null));
    for (const setting of settings) np(`${settingName(setting)}-en`, pruned('en', setting), files(null));
  }
  if (parts.includes('own')) {
    for (const setting of settings) for (const lang of order.slice(1)) np(`${settingName(setting)}-${lang}`, pruned(lang, setting), files(lang));
  }
}

function sweepReport() {
  const settings = opt('settings', DEFAULT_SWEEP).split(',').map(parseSetting);
  const kinds = opt('tasks', 'swapfar,replace').split(',');
  const langs = LANGS();
  const read = (f) => (existsSync(path.join(CACHE, f)) ? JSON.parse(readFileSync(path.join(CACHE, f), 'utf8')) : null);
  const fmt = (p) => (p ? `${p.diff >= 0 ? '+' : '−'}${(100 * Math.abs(p.diff)).toFixed(1)}±${(100 * p.se).toFixed(1)}` : 'n/m');
  const avg = (ps) => {
    const q = ps.filter(Boolean);
    if (!q.length) return null;
    return { diff: mean(q.map((p) => p.diff)), se: Math.sqrt(q.reduce((a, p) => a + p.se ** 2, 0)) / q.length, k: q.length };
  };
  const out = [];
  const denseP = read('ppl-dense.json');
  for (const setting of settings) {
    const name = settingName(setting);
    out.push(`\n## ${setting.method} ${setting.nm ?? `${Math.round(100 * Number(setting.sparsity))} %`}`);
    for (const kind of kinds) {
      const own = [];
      const en = [];
      const oe = [];
      const cells = [];
      for (const lang of langs) {
        const d = read(`np-dense-${lang}.${kind}.json`);
        const o = read(`np-${name}-${lang}-${lang}.${kind}.json`);
        const e = read(`np-${name}-en-${lang}.${kind}.json`);
        const po = paired(d, o);
        const pe = paired(d, e);
        const poe = lang === 'en' ? null : paired(e, o);
        own.push(lang === 'sw' ? null : po);
        en.push(lang === 'sw' ? null : pe);
        oe.push(lang === 'sw' ? null : poe);
        cells.push(`${lang} own ${fmt(po)} en ${fmt(pe)}`);
      }
      const bigDrops = (ps) => ps.filter((p) => p && p.diff <= -0.05 && -p.diff >= 2 * p.se).length;
      const a = avg(own);
      const b = avg(en);
      const c = avg(oe);
      out.push(`${kind} minus dense (points, paired ± se): ${cells.join('; ')}`);
      out.push(`${kind} mean over ${a?.k ?? 0} languages but sw: own ${fmt(a)}, en ${fmt(b)}, own − en ${fmt(c)}; drops >= 5 points and >= 2 se: own ${bigDrops(own)}, en ${bigDrops(en)}`);
    }
    const P = Object.fromEntries(langs.map((l) => [l, read(`ppl-${name}-${l}.json`)]));
    const row = (l) => `${l}: own ${P[l]?.[l]?.ppl.toFixed(1) ?? 'n/m'} en ${P.en?.[l]?.ppl.toFixed(1) ?? 'n/m'} dense ${denseP?.[l]?.ppl.toFixed(1)}`;
    // Calibration-language order: in how many evaluation columns is the own-language row the lowest?
    const have = langs.filter((l) => P[l]);
    const lowest = have.filter((ev) => have.every((cal) => P[cal][ev].ppl >= P[ev][ev].ppl)).length;
    const finite = have.every((cal) => langs.every((ev) => Number.isFinite(P[cal][ev]?.ppl)));
    out.push(`ppl (16 x 64 tokens): ${langs.map(row).join('; ')}`);
    const belowEn = P.en ? have.filter((l) => l !== 'en' && P[l][l].ppl < P.en[l].ppl).length : 0;
    out.push(`ppl: own-language calibration lowest in ${lowest} of ${have.length} columns, below English calibration in ${belowEn} of ${have.filter((l) => l !== 'en').length}; all finite: ${finite}`);
  }
  console.log(out.join('\n'));
}

/** Every cached result of `model` on task `t`: CLI (`eval-*`) and numpy (`np-*`, with per-item 0/1). */
function results(model, t) {
  const files = existsSync(CACHE) ? readdirSync(CACHE) : [];
  const out = [];
  for (const f of files) {
    if (f.startsWith(evalKey(model, t, '')) && /-\d+\.json$/.test(f)) out.push({ scorer: 'cli', ...JSON.parse(readFileSync(path.join(CACHE, f), 'utf8')) });
    if (f === `np-${model}-${t.id}.json`) out.push({ scorer: 'np', ...JSON.parse(readFileSync(path.join(CACHE, f), 'utf8')) });
  }
  return out.sort((a, b) => b.n - a.n);
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** lm-eval's mean_stderr: sample sd (n - 1) / sqrt(n). */
const stderr = (xs) => {
  const m = mean(xs);
  return xs.length > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1) / xs.length) : null;
};
/** Paired difference b - a over the first items both scored (per-item 0/1 lists). */
function paired(a, b) {
  if (!a?.correct || !b?.correct) return null;
  const n = Math.min(a.correct.length, b.correct.length);
  const d = Array.from({ length: n }, (_, i) => b.correct[i] - a.correct[i]);
  return { diff: mean(d), se: stderr(d), n };
}

/**
 * The two scorers on the same items: the CLI's acc on its first n against numpy's first n. CLI
 * results come from the cache and from card-tasks-cli.json (an earlier CLI-only run of this script,
 * first 25 to 60 items, same pruning settings).
 */
const CLI_JSON = path.resolve('tools/make-eval-tasks/card-tasks-cli.json');
function verify() {
  const lines = [];
  const old = existsSync(CLI_JSON) ? JSON.parse(readFileSync(CLI_JSON, 'utf8')).rows : [];
  // The shipped tasks and those of the earlier CLI run (its `swap` files are no longer shipped).
  const tasks = [...index.tasks, ...old.filter((r) => !index.tasks.some((t) => t.id === r.id))];
  for (const t of tasks) {
    const row = old.find((r) => r.id === t.id);
    for (const model of new Set(['dense', 'wanda-en', `wanda-${t.language}`])) {
      const rs = results(model, t);
      const npr = rs.find((r) => r.scorer === 'np');
      const col = model === 'dense' ? row?.dense : model === 'wanda-en' ? row?.wandaEn : row?.wandaOwn;
      for (const c of [...rs.filter((r) => r.scorer === 'cli'), ...(col ? [col] : [])]) {
        if (!npr || npr.correct.length < c.n) continue;
        const acc = mean(npr.correct.slice(0, c.n));
        lines.push(`${model} ${t.id} first ${c.n}: cli ${c.acc.toFixed(4)} np ${acc.toFixed(4)} ${Math.abs(acc - c.acc) < 1e-9 ? 'same' : 'DIFFERENT'}`);
      }
    }
  }
  console.log(lines.join('\n') || 'No task was scored by both scorers.');
}

function table() {
  const rows = [];
  const cell = (r) => (r ? `${(100 * r.acc).toFixed(1)} ± ${(100 * r.acc_stderr).toFixed(1)} (${r.n})` : 'n/m');
  const sign = (x) => `${x >= 0 ? '+' : '−'}${(100 * Math.abs(x)).toFixed(1)}`;
  const dcell = (p) => (p ? `${sign(p.diff)}${p.se === null ? '' : ` ± ${(100 * p.se).toFixed(1)}`} (${p.n})` : 'n/m');
  // A cell not in the cache (e.g. a fresh checkout) comes from the last card-tasks.json; older files
  // have no per-item scores, so their paired differences from the dense model have no standard error.
  const prev = existsSync(OUT) ? JSON.parse(readFileSync(OUT, 'utf8')).rows : [];
  const get = (model, col, t) => {
    const r = results(model, t)[0];
    if (r) return pick(r);
    const old = prev.find((x) => x.id === t.id)?.[col];
    return old ? { ...old } : null;
  };
  /** pruned - dense on the same items: paired with per-item scores, else the difference of the accuracies. */
  const minusDense = (dense, x) => paired(dense, x) ?? (dense && x && dense.n === x.n ? { diff: x.acc - dense.acc, se: null, n: x.n } : null);
  for (const t of index.tasks) {
    const dense = get('dense', 'dense', t);
    if (!dense) continue;
    const own = get(`wanda-${t.language}`, 'wandaOwn', t);
    const en = get('wanda-en', 'wandaEn', t);
    const extra = get(EXTRA.tag, EXTRA.tag, t);
    const chOwn = get(chosenTag(t.language), 'chosenOwn', t);
    const chEn = get(chosenTag('en'), 'chosenEn', t);
    rows.push({
      id: t.id, task: t.task, language: t.language, chance: t.chance, itemsInFile: t.items,
      dense, wandaOwn: own, wandaEn: en, [EXTRA.tag]: extra, chosenOwn: chOwn, chosenEn: chEn,
      ownMinusEn: t.language === 'en' ? null : paired(en, own) ?? prev.find((x) => x.id === t.id)?.ownMinusEn ?? null,
    });
  }
  const COLS = ['dense', 'wandaOwn', 'wandaEn', EXTRA.tag, 'chosenOwn', 'chosenEn'];
  const keep = (r) => r && { acc: r.acc, acc_stderr: r.acc_stderr, n: r.n, scorer: r.scorer, ...(r.correct ? { correct: r.correct } : {}) };
  // One row per line (with per-item 0/1 scores, so a later `table` can pair without the cache).
  const head = JSON.stringify({ prune: PRUNE, chosen: { ...CHOSEN.setting, title: CHOSEN.title } }).slice(0, -1);
  writeFileSync(OUT, `${head},"rows":[\n${rows.map((r) => JSON.stringify({ ...r, ...Object.fromEntries(COLS.map((c) => [c, keep(r[c])])) })).join(',\n')}\n]}\n`);
  const withExtra = rows.some((r) => r[EXTRA.tag]);
  const withChosen = rows.some((r) => r.chosenOwn || r.chosenEn);
  const ch = (r, col) => (r[col] ? `${cell(r[col])}; ${dcell(minusDense(r.dense, r[col]))}` : 'n/m');
  const md = [
    `| task | lang | items in file | chance | dense | Wanda 50 %, own-language calibration | Wanda 50 %, English calibration | own − English (paired) |${withExtra ? ` ${EXTRA.title} |` : ''}${withChosen ? ` ${CHOSEN.title}, own-language calibration; − dense (paired) | ${CHOSEN.title}, English calibration; − dense (paired) |` : ''}`,
    `|---|---|---:|---:|---:|---:|---:|---:|${withExtra ? '---:|' : ''}${withChosen ? '---:|---:|' : ''}`,
    ...rows.map((r) => `| ${r.id.split('.')[1]} | ${r.language} | ${r.itemsInFile} | ${(100 * r.chance).toFixed(0)} | ${cell(r.dense)} | ${cell(r.wandaOwn)} | ${cell(r.wandaEn)} | ${r.language === 'en' ? 'same model' : dcell(r.ownMinusEn)} |${withExtra ? ` ${cell(r[EXTRA.tag])} |` : ''}${withChosen ? ` ${ch(r, 'chosenOwn')} | ${ch(r, 'chosenEn')} |` : ''}`),
  ].join('\n');
  const pts = (r) => (100 * (r.dense.acc - r.chance)).toFixed(1);
  const summary = [...new Set(rows.map((r) => r.id.split('.')[1]))].map((kind) => {
    const rs = rows.filter((r) => r.id.endsWith(`.${kind}`));
    const reach = rs.filter((r) => r.dense.acc - r.chance >= 0.2).map((r) => `${r.language} (+${pts(r)})`);
    const miss = rs.filter((r) => r.dense.acc - r.chance < 0.2).map((r) => `${r.language} (+${pts(r)})`);
    // What pruning costs: paired differences pruned - dense, averaged over the languages (se of the mean).
    const cost = (col, langs = null) => {
      const ds = rs.filter((r) => !langs || langs(r.language)).map((r) => minusDense(r.dense, r[col])).filter(Boolean);
      if (!ds.length) return 'n/m';
      const m = mean(ds.map((d) => d.diff));
      const se = ds.every((d) => d.se !== null) ? Math.sqrt(ds.reduce((a, d) => a + d.se ** 2, 0)) / ds.length : null;
      return `${sign(m)}${se === null ? ' (no per-item scores recorded, no standard error)' : ` ± ${(100 * se).toFixed(1)}`} points over ${ds.length} languages`;
    };
    const oe = rs.filter((r) => r.ownMinusEn);
    const oeMean = oe.length ? mean(oe.map((r) => r.ownMinusEn.diff)) : null;
    const oeSe = oe.length ? Math.sqrt(oe.reduce((a, r) => a + r.ownMinusEn.se ** 2, 0)) / oe.length : null;
    const oeText = oe.length ? `${sign(oeMean)} ± ${(100 * oeSe).toFixed(1)} points over ${oe.length} languages` : 'n/m';
    const extraText = rs.some((r) => r[EXTRA.tag]) ? ` ${EXTRA.title} minus dense: ${cost(EXTRA.tag)}.` : '';
    let chosenText = '';
    if (rs.some((r) => r.chosenOwn || r.chosenEn)) {
      // The default experiment's setting: mean paired drop, and in how many languages it is >= 5 points and >= 2 se.
      const clear = (col) => rs.filter((r) => r.language !== 'sw').map((r) => minusDense(r.dense, r[col])).filter((d) => d && d.se !== null && d.diff <= -0.05 && -d.diff >= 2 * d.se).length;
      const notSw = (l) => l !== 'sw';
      chosenText = ` ${CHOSEN.title} (the page's default experiment) minus dense, paired, mean over the languages but sw: own-language calibration ${cost('chosenOwn', notSw)} (a drop of at least 5 points and 2 standard errors in ${clear('chosenOwn')} of ${rs.length - 1}), English calibration ${cost('chosenEn', notSw)} (${clear('chosenEn')} of ${rs.length - 1}).`;
    }
    return `- ${kind}: dense at least 20 points above chance in ${reach.join(', ') || 'none'}; below that aim: ${miss.join(', ') || 'none'}. Wanda 50 % minus dense, paired, mean over the languages: own-language calibration ${cost('wandaOwn')}, English calibration ${cost('wandaEn')}; own-language minus English calibration ${oeText}.${extraText}${chosenText}`;
  }).join('\n');
  const scorers = [...new Set(rows.flatMap((r) => [r.dense, r.wandaOwn, r.wandaEn, r.chosenOwn, r.chosenEn]).filter(Boolean).map((r) => r.scorer))];
  const section = `## Downstream tasks

Accuracy in % (\`acc\`, ± standard error, number of items scored in brackets) on the bundled tasks in
\`public/data/tasks\` (built by \`tools/make-eval-tasks/make-tasks.mjs\` from held-out eval text;
construction in docs/eval-tasks.md). Written by \`node tools/make-eval-tasks/card-tasks.mjs table\` from
the results of \`card-tasks.mjs run\` (scored by ${scorers.map((x) => (x === 'np' ? 'the numpy reference scorer `tools/make-eval-tasks/np_score.py`, which gives exactly the engine\'s accuracy on every item set both scored (`card-tasks.mjs verify`)' : 'the `polyprune` CLI on Dawn/lavapipe')).join(' and ')}; the pruned models are made by \`polyprune prune\`).
The first n items of each file are scored (\`--limit\`): every sentence's first item comes before any
second item, so up to the number of usable sentences (84 to 153 per language, sw 21) every item is
from a different sentence; beyond it some sentences give a second item, and the standard error,
which assumes independent items, is somewhat optimistic. Pruning: Wanda 50 % unstructured, ${PRUNE.nsamples} windows of ${PRUNE.seqlen}
tokens (seed ${PRUNE.seed}) from \`calib/<lang>.txt\` of the own language or of English (for en both
columns are the same model); then Wanda 70 % with English calibration, the same way, and
${CHOSEN.title} (the setting of the page's default experiment) with own-language and with English calibration,
each followed by its paired difference from the dense model on the same items.
"own − English": paired difference of the two 50 % models on the
items both scored, with the standard error of the per-item differences. n/m: not measured.

${md}

${summary}

Why Swahili (21 usable held-out sentences) misses the aim (and Russian did on \`swap\`), the other constructions
measured for them, what the pruned columns show and why the page defaults to ${CHOSEN.title}: docs/eval-tasks.md ("Bundled tasks for the
default model").

`;
  let card = readFileSync(CARD, 'utf8');
  const start = card.indexOf('## Downstream tasks');
  if (start >= 0) {
    const end = card.indexOf('\n## ', start + 1);
    card = card.slice(0, start) + section + (end >= 0 ? card.slice(end + 1) : '');
  } else {
    const at = card.indexOf('## Reproduce');
    card = card.slice(0, at) + section + '\n' + card.slice(at);
  }
  writeFileSync(CARD, card);
  console.log(md + '\n\n' + summary);
}

function pick(r) {
  return { acc: r.acc, acc_stderr: r.acc_stderr, n: r.n, scorer: r.scorer, correct: r.correct };
}

if (argv[0] === 'run') run();
else if (argv[0] === 'verify') verify();
else if (argv[0] === 'table') table();
else if (argv[0] === 'sweep') sweep();
else if (argv[0] === 'sweep-report') sweepReport();
else {
  console.error('Usage: card-tasks.mjs run [--scorer cli|np] [--parts dense,en,own,en70] [--tasks swapfar,replace] [--langs ...] [--limit 200] | verify | table | sweep [--settings wanda@0.7,wanda@2:4,...] [--limit 200] | sweep-report [--settings ...]');
  process.exit(2);
}
