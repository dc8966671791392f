/**
 * `polyprune grid --preset kurz2026`: the study's design filled into the grid's options (each option
 * given on the command line wins), and a summary of what the run will download and do, printed
 * before anything starts (`--plan`: only that).
 */
import type { Command } from 'commander';
import { PolyPruneError } from '../common/errors';
import { fmtBytes } from '../common/format';
import { PRESETS, presetTasks, type StudyPreset } from '../experiment/presets';
import { textBytesFor } from './hubData';

export interface PresetTarget {
  model?: string;
  method?: string;
  sparsity?: number;
  nm?: { n: number; m: number };
  calib?: string[];
  eval?: string[];
  task?: string[];
  seeds?: string;
  seed?: number;
  nsamples: number;
  seqlen: number;
  evalSeqlen: number;
  evalMaxWindows?: number;
}

const given = (cmd: Command, name: string) => cmd.getOptionValueSource(name) === 'cli' || cmd.getOptionValueSource(name) === 'env';

const mib = (b: number) => fmtBytes(b, { unit: 'MiB' });

export function presetByName(name: string): StudyPreset {
  const p = PRESETS[name];
  if (!p) throw new PolyPruneError('BAD_ARGUMENT', `Unknown preset '${name}'. Presets: ${Object.keys(PRESETS).join(', ')}.`);
  return p;
}

/** Fills `o` from the preset where the user gave nothing; returns the summary lines. */
export function applyPreset(o: PresetTarget, cmd: Command, name: string): string[] {
  const p = presetByName(name);
  o.model ??= p.models.value[0];
  o.method ??= p.methods.value[0];
  if (o.sparsity === undefined && o.nm === undefined) {
    const first = p.patterns.value[0];
    if (first.nm) o.nm = first.nm;
    else o.sparsity = first.sparsity;
  }
  if (!given(cmd, 'nsamples')) o.nsamples = p.nsamples.value;
  if (!given(cmd, 'seqlen')) o.seqlen = p.seqlen.value;
  if (!given(cmd, 'evalSeqlen')) o.evalSeqlen = p.seqlen.value;
  if (o.seeds === undefined && o.seed === undefined) o.seeds = p.seeds.value.join(',');
  const langs = p.languages.value;
  o.calib ??= langs.map((l) => `hub:${p.calibCorpus.value}:${l}`);
  o.eval ??= langs.map((l) => `hub:${p.evalText.value.replace('{lang}', l)}`);
  const tasks = presetTasks(p, langs);
  o.task ??= tasks.map((t) => t.name);
  const seeds = (o.seeds ?? String(o.seed ?? 0)).split(',').length;
  const calibBytes = o.calib.length * textBytesFor(o.nsamples, o.seqlen);
  const evalWindows = o.evalMaxWindows ?? 64;
  const evalBytes = o.eval.length * textBytesFor(evalWindows, o.evalSeqlen);
  const items = tasks.filter((t) => o.task!.includes(t.name)).reduce((a, t) => a + t.items, 0);
  const rows = o.calib.length;
  const prunes = rows * seeds;
  const calibTokens = prunes * o.nsamples * o.seqlen;
  const evalTokens = (prunes + 1) * o.eval.length * evalWindows * o.evalSeqlen;
  const pattern = o.nm ? `${o.nm.n}:${o.nm.m}` : `${(o.sparsity ?? 0) * 100} %`;
  const others: string[] = [];
  for (const m of p.models.value) for (const me of p.methods.value) for (const pt of p.patterns.value) {
    const ptn = pt.nm ? `--nm ${pt.nm.n}:${pt.nm.m}` : `--sparsity ${pt.sparsity}`;
    if (m === o.model && me === o.method && ((pt.nm && o.nm && pt.nm.n === o.nm.n && pt.nm.m === o.nm.m) || (!pt.nm && !o.nm && pt.sparsity === o.sparsity))) continue;
    others.push(`--model ${m} --method ${me} ${ptn}`);
  }
  return [
    `preset ${p.id}: ${p.title} (sources of every setting: docs/data.md)`,
    `  model        ${o.model}   (the study: ${p.models.value.join(', ')})`,
    `  method       ${o.method} ${pattern}   (the study: ${p.methods.value.join(', ')} at 50 % and 2:4)`,
    `  calibration  ${o.calib.join(' ')}: ${o.nsamples} x ${o.seqlen} tokens, seeds ${o.seeds ?? o.seed}`,
    `  held-out     ${o.eval.join(' ')}: ${evalWindows} windows of ${o.evalSeqlen} tokens each`,
    `  tasks        ${o.task.join(' ')}`,
    `  downloads    the model's checkpoint (about 16 GB for an 8B model in BF16, unless cached), calibration text ${mib(calibBytes)}, held-out text ${mib(evalBytes)}, task data for ${items.toLocaleString('en-US')} items (Hub parquet)`,
    `  work         ${prunes} prunes (${rows} calibration rows x ${seeds} seeds) over ${(calibTokens / 1e6).toFixed(1)}M calibration tokens; ${(evalTokens / 1e6).toFixed(1)}M tokens of perplexity and ${items.toLocaleString('en-US')} task items per model (${prunes + 1} models); time on this adapter: needs the model loaded (a short measured forward); the run prints its estimate before the first prune, and polyprune prune --plan gives memory`,
    `  the rest of the design, one run each: ${others.map((x) => `polyprune grid --preset ${p.id} ${x}`).join(' ; ')}`,
  ];
}
