#!/usr/bin/env node
// Fills two sections of public/models/polyprune-ml/MODEL_CARD.md with numbers measured by PolyPrune's
// own WGSL engine (the CLI on Dawn): per-language held-out bits per byte against PyTorch's values in
// metrics.json, and the calibration x evaluation language matrix of held-out perplexity after Wanda 50%.
// Usage (from the repo root, after `npm ci`): node tools/train-default-model/card-matrix.mjs
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const DIR = path.resolve('public/models/polyprune-ml');
const CARD = path.join(DIR, 'MODEL_CARD.md');
const CALIB = (process.env.CALIB_LANGS ?? 'ar,de,en,es,fr,ru,sw,zh').split(',');
const EVAL = (process.env.EVAL_LANGS ?? CALIB.join(',')).split(',');
const NSAMPLES = process.env.NSAMPLES ?? '32';
const SEQLEN = process.env.SEQLEN ?? '128';
const EVAL_WINDOWS = process.env.EVAL_WINDOWS ?? '16';

const cli = (args) => JSON.parse(execFileSync(process.execPath, ['bin/polyprune.mjs', ...args, '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 }));
const metrics = JSON.parse(readFileSync(path.join(DIR, 'metrics.json'), 'utf8'));

// 1. WGSL vs PyTorch bits per byte on the stored eval windows.
const bpbRows = [];
for (const lang of Object.keys(metrics.languages)) {
  const r = cli(['ppl', '--model', DIR, '--windows', path.join(DIR, `eval-${lang}.safetensors`)]);
  const torch = metrics.languages[lang].bpb;
  bpbRows.push(`| ${lang} | ${r.bitsPerByte.toFixed(4)} | ${torch.toFixed(4)} | ${(Math.abs(r.bitsPerByte - torch) / torch).toExponential(1)} | ${r.tokens} | ${r.bytes} |`);
  console.error(`bpb ${lang}: WGSL ${r.bitsPerByte} PyTorch ${torch}`);
}

// 2. The grid.
const t0 = Date.now();
const g = cli(['grid', '--model', DIR, '--data', DIR, '--calib-langs', CALIB.join(','), '--eval-langs', EVAL.join(','), '--method', 'wanda', '--sparsity', '0.5', '--nsamples', NSAMPLES, '--seqlen', SEQLEN, '--eval-seqlen', SEQLEN, '--eval-max-windows', EVAL_WINDOWS]);
const minutes = ((Date.now() - t0) / 60000).toFixed(1);
const table = (metric) => {
  const f = (c) => (metric === 'ppl' ? c.ppl.toFixed(1) : c.bitsPerByte.toFixed(3));
  const key = metric === 'ppl' ? 'ppl' : 'meanNll';
  const lines = [`| calibration \\ evaluation | ${EVAL.join(' | ')} |`, `|---|${EVAL.map(() => '---:').join('|')}|`, `| dense | ${EVAL.map((l) => f(g.dense[l])).join(' | ')} |`];
  for (const c of CALIB) {
    lines.push(`| ${c} | ${EVAL.map((l) => (CALIB.every((o) => g.rows[o][l][key] >= g.rows[c][l][key]) ? `**${f(g.rows[c][l])}**` : f(g.rows[c][l]))).join(' | ')} |`);
  }
  return lines.join('\n');
};
const wins = g.ownLanguage.filter((w) => w.wins);
const losses = g.ownLanguage.filter((w) => !w.wins).map((w) => `${w.language} (best: ${w.best}, ${w.bestPpl.toFixed(1)} vs own ${w.own.toFixed(1)})`);

const section = `## Calibration language x evaluation language (Wanda 50%)

Measured with PolyPrune's WGSL engine (\`node tools/train-default-model/card-matrix.mjs\`, ${minutes} min on
Dawn/lavapipe): for each calibration language (rows), Wanda 50 % unstructured with ${NSAMPLES} windows of
${SEQLEN} tokens drawn (seed 0) from that language's held-out calibration text (\`calib/<lang>.txt\`),
then held-out perplexity on the first ${EVAL_WINDOWS} non-overlapping ${SEQLEN}-token windows of each
evaluation language's eval text (\`eval/<lang>.txt\`). Bold: the lowest value in the column.

Perplexity:

${table('ppl')}

Bits per byte:

${table('bpb')}

Own-language calibration gives the lowest perplexity for ${wins.length} of ${g.ownLanguage.length} languages${losses.length ? `; not for ${losses.join(', ')}` : ''}.

### Held-out bits per byte: WGSL engine vs PyTorch

Same stored windows (\`eval-<lang>.safetensors\`), PolyPrune's WGSL forward on Dawn/lavapipe against the
PyTorch value recorded in metrics.json:

| language | WGSL | PyTorch | relative difference | predicted tokens | bytes |
|---|---:|---:|---:|---:|---:|
${bpbRows.join('\n')}

`;
const card = readFileSync(CARD, 'utf8');
const start = card.indexOf('## Calibration language x evaluation language (Wanda 50%)');
if (start < 0) throw new Error('MODEL_CARD.md has no "Calibration language x evaluation language (Wanda 50%)" section');
const next = card.indexOf('\n## ', start + 10);
writeFileSync(CARD, card.slice(0, start) + section + (next < 0 ? '' : card.slice(next + 1)));
writeFileSync(path.resolve('tools/train-default-model/card-grid.json'), JSON.stringify(g, null, 1));
console.error(`wrote ${CARD}`);
