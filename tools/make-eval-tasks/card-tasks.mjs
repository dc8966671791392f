#!/usr/bin/env node
// Measures the bundled tasks (public/data/tasks) on the default model with the `polyprune` CLI:
// dense, after Wanda 50 % calibrated on the task's own language, and after Wanda 50 % calibrated on
// English. Every CLI result is cached in .tmp/card-tasks/ (so a run can be resumed or split over
// several processes); `table` writes tools/make-eval-tasks/card-tasks.json and the markdown table
// into public/models/polyprune-ml/MODEL_CARD.md (section "Downstream tasks").
//
// Usage (repo root, after `npm ci`):
//   node tools/make-eval-tasks/card-tasks.mjs run [--parts dense,en,own] [--tasks swap] [--langs ar,de,...] [--limit 60] [--reverse]
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

/** A Wanda 50 % copy of the model calibrated on `lang` (cached folder under .tmp/card-tasks/). */
function pruned(lang) {
  const dir = path.join(CACHE, `wanda-${lang}`);
  cached(`prune-${lang}`, () => {
    const r = cli(['prune', '--model', MODEL, '--method', PRUNE.method, '--sparsity', PRUNE.sparsity, '--calib', path.join(MODEL, 'calib', `${lang}.txt`), '--nsamples', PRUNE.nsamples, '--seqlen', PRUNE.seqlen, '--seed', PRUNE.seed, '--out', dir]);
    return { overall: r.report?.overall ?? r.overall ?? null };
  });
  return dir;
}

function evalKey(model, t, limit) {
  return `eval-${model}-${t.id}-${limit}`;
}

function run() {
  mkdirSync(CACHE, { recursive: true });
  const parts = opt('parts', 'dense,en,own').split(',');
  const kinds = opt('tasks', 'swap').split(',');
  const langs = opt('langs', null)?.split(',');
  const reverse = argv.includes('--reverse');
  const limit = opt('limit', '60');
  const tasks = index.tasks.filter((t) => kinds.includes(t.id.split('.')[1]) && (!langs || langs.includes(t.language)));
  if (reverse) tasks.reverse();
  // A result already cached with another --limit counts as done (runs can be split and resumed).
  const done = (model, t) => existsSync(CACHE) && readdirSync(CACHE).some((f) => f.startsWith(evalKey(model, t, '')) && /-\d+\.json$/.test(f));
  const evalOn = (model, dir, t) => !done(model, t) && cached(evalKey(model, t, limit), () => cli(['eval', '--model', dir, '--task', t.task, '--data', path.join(TASKS, t.file), '--language', t.language, '--limit', limit]));
  for (const part of parts) {
    for (const t of tasks) {
      if (part === 'dense') evalOn('dense', MODEL, t);
      else if (part === 'en' && !done('wanda-en', t)) evalOn('wanda-en', pruned('en'), t);
      else if (part === 'own' && !done(`wanda-${t.language}`, t)) evalOn(`wanda-${t.language}`, pruned(t.language), t);
    }
  }
}

function table() {
  const rows = [];
  const f = (r) => (r ? `${(100 * r.acc).toFixed(1)} ± ${(100 * r.acc_stderr).toFixed(1)} (${r.n})` : 'n/m');
  // The result with the most items scored, whatever --limit it was run with.
  const files = existsSync(CACHE) ? readdirSync(CACHE) : [];
  const get = (model, t) => {
    const hits = files.filter((f) => f.startsWith(`${evalKey(model, t, '')}`) && /-\d+\.json$/.test(f)).map((f) => JSON.parse(readFileSync(path.join(CACHE, f), 'utf8')));
    return hits.sort((a, b) => b.n - a.n)[0] ?? null;
  };
  for (const t of index.tasks) {
    const dense = get('dense', t);
    if (!dense) continue;
    const own = get(`wanda-${t.language}`, t);
    const en = get('wanda-en', t);
    rows.push({ id: t.id, task: t.task, language: t.language, chance: t.chance, itemsInFile: t.items, n: dense.n, dense: pick(dense), wandaOwn: own && pick(own), wandaEn: en && pick(en) });
  }
  writeFileSync(OUT, JSON.stringify({ prune: PRUNE, rows }, null, 1) + '\n');
  const md = [
    '| task | lang | items | chance | dense | Wanda 50 %, own-language calibration | Wanda 50 %, English calibration |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.id.split('.')[1]} | ${r.language} | ${r.itemsInFile} | ${(100 * r.chance).toFixed(0)} | ${f(r.dense)} | ${f(r.wandaOwn)} | ${f(r.wandaEn)} |`),
  ].join('\n');
  const pts = (r) => (100 * (r.dense.acc - r.chance)).toFixed(0);
  const reach = rows.filter((r) => r.dense.acc - r.chance >= 0.2).map((r) => `${r.id} (+${pts(r)})`);
  const miss = rows.filter((r) => r.dense.acc - r.chance < 0.2).map((r) => `${r.id} (+${pts(r)})`);
  const summary = `Dense at least 20 points above chance: ${reach.join(', ') || 'none'}; below that aim: ${miss.join(', ') || 'none'}.
The pruned columns were scored on fewer items (the first 25 to 60) than the dense column, so
differences within a row are indicative only. With so few items a cell's standard error is 4 to 10
points; the full files (168 to 306 items per language, sw 42) bring it to about 2.3 to 3.5 points
(sw about 7) on a faster adapter.`;
  const section = `## Downstream tasks

Accuracy in % (\`acc\`, ± standard error) on the bundled tasks in \`public/data/tasks\` (built by
\`tools/make-eval-tasks/make-tasks.mjs\` from held-out eval text; construction in docs/eval-tasks.md),
scored by the \`polyprune\` CLI on Dawn/lavapipe (\`node tools/make-eval-tasks/card-tasks.mjs run\`, then
\`table\`). To fit the time of a shared two-core machine, only the first n items of each file are scored
(\`--limit\`, one item per sentence; n in brackets in every cell, the file's item count in the
"items" column). Pruning: Wanda 50 % unstructured, ${PRUNE.nsamples} windows of ${PRUNE.seqlen}
tokens (seed ${PRUNE.seed}) from \`calib/<lang>.txt\` of the own language or of English (for en both columns are the
same model). n/m: not measured.

${md}

${summary}

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
  console.log(md);
}

function pick(r) {
  return { acc: r.acc, acc_stderr: r.acc_stderr, acc_norm: r.acc_norm, n: r.n, seconds: r.seconds };
}

if (argv[0] === 'run') run();
else if (argv[0] === 'table') table();
else {
  console.error('Usage: card-tasks.mjs run [--parts dense,en,own] [--tasks swap] [--langs ...] [--limit 60] | table [--limit 60]');
  process.exit(2);
}
