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
 * A Wanda copy of the model calibrated on `lang` (cached folder under .tmp/card-tasks/): 50 % as in
 * the table's main columns, or another sparsity for the extra column (folder wanda<percent>-<lang>).
 */
function pruned(lang, sparsity = PRUNE.sparsity) {
  const name = sparsity === PRUNE.sparsity ? `wanda-${lang}` : `wanda${Math.round(100 * Number(sparsity))}-${lang}`;
  const dir = path.join(CACHE, name);
  if (existsSync(path.join(dir, 'model.safetensors'))) return dir;
  cached(`prune-${name}`, () => {
    const r = cli(['prune', '--model', MODEL, '--method', PRUNE.method, '--sparsity', sparsity, '--calib', path.join(MODEL, 'calib', `${lang}.txt`), '--nsamples', PRUNE.nsamples, '--seqlen', PRUNE.seqlen, '--seed', PRUNE.seed, '--out', dir]);
    return { overall: r.report?.overall ?? r.overall ?? null };
  });
  return dir;
}

/** Extra column: English calibration at a higher sparsity (part `en70` of `run`), shown when measured. */
const EXTRA = { part: 'en70', tag: 'wanda70-en', sparsity: '0.7', title: 'Wanda 70 %, English calibration' };

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
      else if (part === EXTRA.part) evalOn(EXTRA.tag, pruned('en', EXTRA.sparsity), t);
    }
  }
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
  const dcell = (p) => (p ? `${p.diff >= 0 ? '+' : '−'}${(100 * Math.abs(p.diff)).toFixed(1)} ± ${(100 * p.se).toFixed(1)} (${p.n})` : 'n/m');
  for (const t of index.tasks) {
    const dense = results('dense', t)[0];
    if (!dense) continue;
    const own = results(`wanda-${t.language}`, t)[0] ?? null;
    const en = results('wanda-en', t)[0] ?? null;
    const extra = results(EXTRA.tag, t)[0] ?? null;
    rows.push({
      id: t.id, task: t.task, language: t.language, chance: t.chance, itemsInFile: t.items,
      dense: pick(dense), wandaOwn: own && pick(own), wandaEn: en && pick(en), [EXTRA.tag]: extra && pick(extra),
      ownMinusEn: t.language === 'en' ? null : paired(en, own),
    });
  }
  const strip = (r) => r && { acc: r.acc, acc_stderr: r.acc_stderr, n: r.n, scorer: r.scorer };
  writeFileSync(OUT, JSON.stringify({ prune: PRUNE, rows: rows.map((r) => ({ ...r, dense: strip(r.dense), wandaOwn: strip(r.wandaOwn), wandaEn: strip(r.wandaEn), [EXTRA.tag]: strip(r[EXTRA.tag]) })) }, null, 1) + '\n');
  const withExtra = rows.some((r) => r[EXTRA.tag]);
  const md = [
    `| task | lang | items in file | chance | dense | Wanda 50 %, own-language calibration | Wanda 50 %, English calibration | own − English (paired) |${withExtra ? ` ${EXTRA.title} |` : ''}`,
    `|---|---|---:|---:|---:|---:|---:|---:|${withExtra ? '---:|' : ''}`,
    ...rows.map((r) => `| ${r.id.split('.')[1]} | ${r.language} | ${r.itemsInFile} | ${(100 * r.chance).toFixed(0)} | ${cell(r.dense)} | ${cell(r.wandaOwn)} | ${cell(r.wandaEn)} | ${r.language === 'en' ? 'same model' : dcell(r.ownMinusEn)} |${withExtra ? ` ${cell(r[EXTRA.tag])} |` : ''}`),
  ].join('\n');
  const pts = (r) => (100 * (r.dense.acc - r.chance)).toFixed(1);
  const summary = [...new Set(rows.map((r) => r.id.split('.')[1]))].map((kind) => {
    const rs = rows.filter((r) => r.id.endsWith(`.${kind}`));
    const reach = rs.filter((r) => r.dense.acc - r.chance >= 0.2).map((r) => `${r.language} (+${pts(r)})`);
    const miss = rs.filter((r) => r.dense.acc - r.chance < 0.2).map((r) => `${r.language} (+${pts(r)})`);
    // What pruning costs: paired differences pruned - dense, averaged over the languages (se of the mean).
    const cost = (col) => {
      const ds = rs.map((r) => paired(r.dense, r[col])).filter(Boolean);
      if (!ds.length) return 'n/m';
      const m = mean(ds.map((d) => d.diff));
      const se = Math.sqrt(ds.reduce((a, d) => a + d.se ** 2, 0)) / ds.length;
      return `${m >= 0 ? '+' : '−'}${(100 * Math.abs(m)).toFixed(1)} ± ${(100 * se).toFixed(1)} points`;
    };
    const oe = rs.filter((r) => r.ownMinusEn);
    const oeMean = oe.length ? mean(oe.map((r) => r.ownMinusEn.diff)) : null;
    const oeSe = oe.length ? Math.sqrt(oe.reduce((a, r) => a + r.ownMinusEn.se ** 2, 0)) / oe.length : null;
    const oeText = oe.length ? `${oeMean >= 0 ? '+' : '−'}${(100 * Math.abs(oeMean)).toFixed(1)} ± ${(100 * oeSe).toFixed(1)} points over ${oe.length} languages` : 'n/m';
    const extraText = rs.some((r) => r[EXTRA.tag]) ? ` ${EXTRA.title} minus dense: ${cost(EXTRA.tag)}.` : '';
    return `- ${kind}: dense at least 20 points above chance in ${reach.join(', ') || 'none'}; below that aim: ${miss.join(', ') || 'none'}. Wanda 50 % minus dense, paired, mean over the languages: own-language calibration ${cost('wandaOwn')}, English calibration ${cost('wandaEn')}; own-language minus English calibration ${oeText}.${extraText}`;
  }).join('\n');
  const scorers = [...new Set(rows.flatMap((r) => [r.dense, r.wandaOwn, r.wandaEn]).filter(Boolean).map((r) => r.scorer))];
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
columns are the same model); the last column is Wanda 70 % with English calibration, the same way.
"own − English": paired difference of the two 50 % models on the
items both scored, with the standard error of the per-item differences. n/m: not measured.

${md}

${summary}

Why Swahili (21 usable held-out sentences) and Russian miss the aim, the other constructions
measured for them, and what the pruned columns show: docs/eval-tasks.md ("Bundled tasks for the
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
else {
  console.error('Usage: card-tasks.mjs run [--scorer cli|np] [--parts dense,en,own,en70] [--tasks swapfar,replace] [--langs ...] [--limit 200] | verify | table');
  process.exit(2);
}
