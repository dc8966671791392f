#!/usr/bin/env node
// "Same numbers" check (issue 20): runs the built CLI (dist-cli, `npm run build:cli` first) on the
// bundled model (public/models/polyprune-ml) for prune (every method, N:M, OWL), grid (exact and
// instant rows) and mix (Wanda and SparseGPT, with saved statistics), and prints one SHA-256 per
// output: the written safetensors, pruning.json and the --json records with run-dependent fields
// (timings, dates, ids, adapter, paths) removed. Two runs of the same code print the same hashes;
// a refactor that changes no numbers prints the same hashes as the code before it.
//   node tools/same-numbers/run.mjs            print the hashes
//   node tools/same-numbers/run.mjs FILE       compare with a saved baseline (exit 1 on a difference)
// baseline-<commit>.txt is the first form's output at that commit of main (run from a clean copy of it,
// `npm run build:cli` first); write a new one when records or files change on purpose.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(root, 'bin/polyprune.mjs');
const M = path.join(root, 'public/models/polyprune-ml');
const tmp = mkdtempSync(path.join(tmpdir(), 'same-numbers-'));
const sha = (b) => createHash('sha256').update(b).digest('hex');

// Keys whose values depend on the run (clock, machine, paths, handles), not on the numbers; any key
// ending in Ms is a time too. Kept on purpose: pruning.json's calibration `files` (SHA-256, tokens,
// window offsets per text), the mixer's `stats` summary (sources, windows, GPU bytes), record fields.
const VOLATILE = /^(timings|createdAt|created|date|id|runId|modelId|adapter|gpu|path|out|totalMs|forwardMs|scoringMs|ms|elapsedMs|seconds|peakGpuBytes|durationMs|startedAt|finishedAt|version|appVersion|engineVersion|checksum)$/i;
function stable(v) {
  if (Array.isArray(v)) return v.map(stable);
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v).sort()) if (!VOLATILE.test(k) && !/Ms$/.test(k)) o[k] = stable(v[k]);
    return o;
  }
  return v;
}

function cli(args) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`polyprune ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

const out = {};
const calib = (l) => `${M}/calib/${l}.txt`;
const common = ['--nsamples', '4', '--seqlen', '64', '--seed', '1'];
const prunes = {
  magnitude: ['--method', 'magnitude', '--sparsity', '0.5'],
  wanda: ['--method', 'wanda', '--sparsity', '0.5', '--calib', calib('de'), ...common],
  'wanda-2:4': ['--method', 'wanda', '--nm', '2:4', '--calib', calib('en'), ...common],
  'wanda-owl': ['--method', 'wanda', '--sparsity', '0.6', '--profile', 'owl', '--calib', calib('fr'), ...common],
  sparsegpt: ['--method', 'sparsegpt', '--sparsity', '0.5', '--calib', calib('de'), calib('en'), '--calib-weights', '3,1', ...common],
  'sparsegpt-2:4': ['--method', 'sparsegpt', '--nm', '2:4', '--calib', calib('sw'), ...common],
  'wanda-lang': ['--method', 'wanda-lang', '--sparsity', '0.5', '--calib', calib('de'), calib('ja'), ...common],
};
for (const [name, args] of Object.entries(prunes)) {
  const dir = path.join(tmp, name);
  const json = JSON.parse(cli(['prune', '-m', M, ...args, '-o', dir, '--recon', '--json']));
  for (const f of readdirSync(dir).sort()) {
    const bytes = readFileSync(path.join(dir, f));
    out[`prune ${name} ${f}`] = sha(f.endsWith('.json') ? JSON.stringify(stable(JSON.parse(bytes.toString('utf8')))) : bytes);
  }
  out[`prune ${name} --json`] = sha(JSON.stringify(stable({ record: json.record, result: json.result })));
}

const grid = ['grid', '-m', M, '--data', M, '--calib-langs', 'de,en', '--eval-langs', 'de,en', '--sparsity', '0.5', '--nsamples', '4', '--seqlen', '64', '--eval-seqlen', '64', '--eval-max-windows', '2', '--json'];
out['grid wanda --json'] = sha(JSON.stringify(stable(JSON.parse(cli([...grid, '--method', 'wanda'])))));
out['grid sparsegpt seeds 0,1 --json'] = sha(JSON.stringify(stable(JSON.parse(cli([...grid, '--method', 'sparsegpt', '--seeds', '0,1'])))));
out['grid wanda --instant --confirm --json'] = sha(JSON.stringify(stable(JSON.parse(cli([...grid, '--method', 'wanda', '--instant', '--confirm'])))));
out['grid sparsegpt --instant --json'] = sha(JSON.stringify(stable(JSON.parse(cli([...grid, '--method', 'sparsegpt', '--instant'])))));

const mix = ['--calib', `${calib('de')}:de`, `${calib('en')}:en`, '--mix', 'de=1', '--mix', '0.7,0.3', '--sparsity', '0.5', '--nsamples', '4', '--seqlen', '64', '--eval', `${M}/eval/de.txt:de`, '--eval-windows', '2', '--json'];
for (const method of ['wanda', 'sparsegpt']) {
  const stats = path.join(tmp, `${method}.stats`);
  out[`mix ${method} --confirm --json`] = sha(JSON.stringify(stable(JSON.parse(cli(['mix', '--model', M, '--method', method, ...mix, '--confirm', '--save-stats', stats])))));
  out[`mix ${method} stats file`] = sha(readFileSync(stats));
}
rmSync(tmp, { recursive: true, force: true });

const lines = Object.entries(out).map(([k, v]) => `${v}  ${k}`);
if (process.argv[2]) {
  const base = new Map(readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => [l.slice(66), l.slice(0, 64)]));
  let diff = 0;
  for (const [k, v] of Object.entries(out)) {
    const same = base.get(k) === v;
    if (!same) diff++;
    console.log(`${same ? 'same     ' : 'DIFFERENT'}  ${k}`);
  }
  for (const k of base.keys()) if (!(k in out)) { diff++; console.log(`MISSING    ${k}`); }
  console.log(diff ? `${diff} outputs differ from ${process.argv[2]}` : `all ${lines.length} outputs byte-identical to ${process.argv[2]}`);
  process.exitCode = diff ? 1 : 0;
} else {
  console.log(lines.join('\n'));
}
