/**
 * `polyprune mix`: the calibration mixer on the command line (docs/mixer.md). One calibration pass
 * collects Wanda's statistics (or SparseGPT's per-source Hessians, `--method sparsegpt`) per source,
 * or `--load-stats` reads them from a file written by `--save-stats`; each `--mix w1,w2,...` re-masks from the mixed statistics
 * (no forward pass) and measures perplexity on the `--eval` texts; `--confirm` also runs the exact
 * sequential prune of each mix and prints the per-layer mask IoU and its perplexity.
 */
import { addHubOptions, hubText, isHubSource, textBytesFor, type HubCliOptions } from './hubData';
import { writeFile, rename, unlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { PolyPruneError } from '../common/errors';
import { LINEAR_MATRICES, METHODS, MIX_METHODS, andList, isMixMethod, methodSpec, mixMethodsServedBy, orList, sharesMixStatistics, type MixMethod, type MixRequest, type MixResult, type PruneResult, type StatsSummary } from '../engine';
import { modelRefOf, pruneResultRecord, recordHeader, type PruneResultRecord, type SourceRef } from '../experiment/records';
import { fsError, pathSource } from '../io/node';
import { createEngine, modelSpec, parseIntArg, seedArg } from './main';
import { readStatsFile, statsFileChunks } from '../engine/local';
import { bitsArg, groupSizeArg, nmArg, settingsArgs, sparsityArg, type PruneCliFields } from './pattern';
import { progressPrinter } from './progress';
import { addGenOptions, pendingGen, writeGenerated, type GenCliOptions, type PendingGen } from './genCalib';
import { isGenSource } from '../calib/genSource';
import { decodeUtf8Strict, readTextArg } from './text';

/** The options of `mix`: the settings schema's pattern fields (pattern.ts), the mixer's method, and the run's. */
interface MixCliOptions extends Pick<PruneCliFields, 'sparsity' | 'nm'> {
  model: string;
  method?: MixMethod;
  bits?: number;
  groupSize?: number;
  actOrder?: boolean;
  staticGroups?: boolean;
  calib?: string[];
  saveStats?: string;
  loadStats?: string;
  mix: string[];
  nsamples: number;
  seqlen: number;
  seed: number;
  eval?: string[];
  evalWindows: number;
  confirm?: boolean;
  json?: boolean;
}

/** 'file.txt:de' -> file and language (a path that exists as given has no language suffix). */
function fileAndLanguage(arg: string): { file: string; language?: string } {
  const m = /^(.*):([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)?)$/.exec(arg);
  if (m && !existsSync(arg)) return { file: m[1], language: m[2] };
  return { file: arg };
}

async function read(file: string): Promise<Uint8Array> {
  return readTextArg(file);
}

/** What a mixer method's statistics are called ('SparseGPT Hessians'). */
function mixStatistics(m: MixMethod): string {
  const mixer = METHODS[m].mixer;
  return mixer.supported ? mixer.statistics : m;
}

function mixMethodArg(v: string): MixMethod {
  if (!isMixMethod(v)) throw new PolyPruneError('BAD_ARGUMENT', `--method ${v}: the mixer supports ${andList(MIX_METHODS)}.`);
  return v;
}

/** Write the statistics file (through a temporary name, so a failed write leaves no half file). */
async function saveStats(file: string, chunks: Uint8Array[]): Promise<void> {
  const tmp = `${file}.part`;
  try {
    await writeFile(tmp, chunks);
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw fsError(file, e);
  }
}

/** '0.7,0.3' or 'de=0.7,en=0.3' -> one weight per source, in source order. */
export function parseMix(arg: string, labels: readonly string[]): number[] {
  const parts = arg.split(',').map((s) => s.trim());
  const named = parts.every((p) => p.includes('='));
  let w: number[];
  if (named) {
    w = labels.map(() => 0);
    const seen = new Set<number>();
    for (const p of parts) {
      const [k, v] = p.split('=');
      const i = labels.indexOf(k.trim());
      if (i < 0) throw new PolyPruneError('BAD_ARGUMENT', `--mix ${arg}: no calibration source '${k.trim()}'. Sources: ${labels.join(', ')}.`);
      if (seen.has(i)) throw new PolyPruneError('BAD_ARGUMENT', `--mix ${arg}: source '${k.trim()}' is named twice; give each source one weight.`);
      seen.add(i);
      w[i] = Number(v);
    }
  } else {
    if (parts.length !== labels.length) throw new PolyPruneError('BAD_ARGUMENT', `--mix ${arg}: give ${labels.length} weights (one per --calib source: ${labels.join(', ')}), or name them as ${labels[0]}=0.5,...`);
    w = parts.map(Number);
  }
  if (w.some((x) => !(Number.isFinite(x) && x >= 0)) || !w.some((x) => x > 0)) throw new PolyPruneError('BAD_ARGUMENT', `--mix ${arg}: weights must be numbers >= 0, not all 0.`);
  if (!Number.isFinite(w.reduce((a, b) => a + b, 0))) throw new PolyPruneError('BAD_ARGUMENT', `--mix ${arg}: the weights add up to more than the largest number this program holds; give relative weights such as 0.7,0.3.`);
  return w;
}

export function registerMix(program: Command): void {
  const cmd = program
    .command('mix')
    .description('Calibration mixer: collect Wanda statistics (or SparseGPT/GPTQ Hessians) per source once, then re-mask (GPTQ: re-quantize) for each --mix without a forward pass (and --confirm with the exact sequential run).')
    .requiredOption('-m, --model <dir|url>', 'model folder or URL')
    .option('--method <name>', 'wanda (per-window input norms; the default), sparsegpt or gptq (one Hessian per source, layer and input group; the same statistics serve both)', mixMethodArg)
    .option('--bits <n>', 'with --method gptq: bits per weight, 2, 3, 4 or 8', bitsArg)
    .option('--group-size <n>', 'with --bits: input columns per group (default 128; per-channel or -1)', groupSizeArg)
    .option('--act-order', 'with --bits: quantize columns in order of decreasing Hessian diagonal')
    .option('--static-groups', 'with --bits: all group parameters from the weights before any update')
    .option('--calib <files...>', "calibration sources, one per file; 'file.txt:de' names the language (used as the source's label); Hub corpora as hub:mc4:de; text the model writes itself as gen:de (--gen-* options, docs/generate.md)")
    .option('--save-stats <file>', 'write the collected statistics to this file (safetensors with JSON metadata) for a later --load-stats')
    .option('--load-stats <file>', 'use statistics from a --save-stats file of this model instead of a calibration pass (no --calib)')
    .requiredOption('--mix <weights>', "weights per source, e.g. 0.7,0.3 or de=0.7,en=0.3 (normalised to sum 1); repeat for several mixes", (v: string, prev: string[] = []) => [...prev, v])
    .option('--sparsity <ratio>', 'unstructured sparsity in (0, 1), e.g. 0.5', sparsityArg)
    .option('--nm <N:M>', 'semi-structured N:M, e.g. 2:4', nmArg)
    .option('--nsamples <n>', 'calibration windows drawn from EACH source', parseIntArg('--nsamples'), 32)
    .option('--seqlen <n>', 'tokens per calibration window', parseIntArg('--seqlen'), 256)
    .option('--seed <n>', 'seed of the window sampler', seedArg('--seed'), 0)
    .option('--eval <files...>', "held-out texts for perplexity ('file.txt:de')")
    .option('--eval-windows <n>', 'score at most this many windows of each --eval text', parseIntArg('--eval-windows'), 8)
    .option('--confirm', 'also run the exact sequential prune (GPTQ: quantize) of each mix: per-layer mask IoU (GPTQ: share of equal integer codes) and perplexity')
    .option('--json', 'print the statistics summary and one result record per mix (and confirm) as JSON');
  addGenOptions(addHubOptions(cmd)).action(async (o: MixCliOptions & HubCliOptions & GenCliOptions) => {
      if (o.bits === undefined && (o.groupSize !== undefined || o.actOrder || o.staticGroups)) throw new PolyPruneError('BAD_ARGUMENT', '--group-size, --act-order and --static-groups set the quantizer: give --bits too (e.g. --method gptq --bits 4).');
      const stored = o.loadStats && o.calib === undefined ? await readStatsFile(pathSource(o.loadStats)) : null;
      // the method that derives each mix: --method, else the statistics file's
      const method: MixMethod = o.method ?? stored?.method ?? MIX_METHODS[0];
      if (o.bits !== undefined && !methodSpec(method).quantizes) throw new PolyPruneError('BAD_ARGUMENT', `--bits quantizes: the mixer's ${method} prunes only; use --method ${orList(MIX_METHODS.filter((m) => methodSpec(m).quantizes))} --bits ${o.bits}.`);
      const quantize = o.bits !== undefined ? { bits: o.bits, groupSize: o.groupSize ?? 128, actOrder: !!o.actOrder, staticGroups: !!o.staticGroups } : undefined;
      const { fields: pattern } = settingsArgs({ method, sparsity: o.sparsity, nm: o.nm, ...(quantize ? { quantize } : {}) });
      if (!o.calib === !o.loadStats) throw new PolyPruneError('BAD_ARGUMENT', 'Give the calibration sources with --calib, or statistics collected before with --load-stats (not both).');
      const sources: { name: string; file: string; language?: string; bytes: Uint8Array }[] = [];
      const gens: { source: (typeof sources)[number]; gen: PendingGen }[] = [];
      const generatedOf = (s: (typeof sources)[number]) => {
        const generated = gens.find((g) => g.source === s)?.gen.text.generated;
        return generated ? { generated } : {};
      };
      for (const a of o.calib ?? []) {
        if (isGenSource(a)) {
          // written by the dense model once it is loaded (below), nsamples windows as in prune and grid
          const gen = pendingGen(a, o, o.nsamples, o.seqlen);
          const source = { name: gen.text.name, file: gen.text.name, language: gen.text.language, bytes: new Uint8Array() };
          sources.push(source);
          gens.push({ source, gen });
          continue;
        }
        if (isHubSource(a)) {
          const t = await hubText(a, textBytesFor(o.nsamples, o.seqlen), o);
          sources.push({ name: a.slice(4), file: t.name, language: t.language, bytes: new TextEncoder().encode(t.text) });
          continue;
        }
        const { file, language } = fileAndLanguage(a);
        sources.push({ name: language ?? path.basename(file), file: path.basename(file), language, bytes: await read(file) });
      }
      if (stored && !sharesMixStatistics(stored.method, method)) throw new PolyPruneError('BAD_ARGUMENT', `--method ${method}, but ${o.loadStats} holds ${stored.method} statistics (${mixStatistics(stored.method)}, which serve ${orList(mixMethodsServedBy(stored.method))}); leave out --method (the file's method is used) or collect ${method} statistics with --calib.`);
      if (stored) for (const s of stored.sources) sources.push({ name: s.name, file: s.name, language: s.language ?? undefined, bytes: new Uint8Array() });
      const labels = sources.map((s) => s.name);
      const mixes = o.mix.map((m) => parseMix(m, labels));
      const evals: { label: string; text: string; name: string; language?: string }[] = [];
      for (const a of o.eval ?? []) {
        const { file, language } = fileAndLanguage(a);
        evals.push({ label: language ?? path.basename(file), text: decodeUtf8Strict(await read(file), file, 'Evaluation text'), name: path.basename(file), language });
      }
      const engine = createEngine();
      const progress = o.json ? undefined : progressPrinter();
      try {
        const base = await engine.loadModel(modelSpec(o.model), { onProgress: progress });
        await writeGenerated(engine, base.id, gens.map((g) => g.gen), progress);
        for (const g of gens) g.source.bytes = new TextEncoder().encode(g.gen.text.text);
        const stats: StatsSummary = stored
          ? await engine.loadStats(base.id, stored)
          : await engine.collectStats(base.id, { method, sources: sources.map((s) => ({ name: s.name, language: s.language, bytes: s.bytes, ...generatedOf(s) })), nsamples: o.nsamples, seqlen: o.seqlen, seed: o.seed }, { onProgress: progress });
        if (o.saveStats) await saveStats(o.saveStats, statsFileChunks(await engine.readStats(stats.id)));
        const seqlen = stats.seqlen;
        const header = recordHeader(modelRefOf(base), (await engine.gpuInfo()).description);
        const refs: SourceRef[] = stats.sources.map((s, k) => {
          // written now, or (--load-stats) as the statistics file's provenance says
          const generated = generatedOf(sources[k]).generated ?? stored?.files.find((f) => f.name === s.name)?.generated;
          return { name: s.name, language: s.language, bytes: s.bytes, sha256: s.sha256, ...(generated ? { generated } : {}) };
        });
        const ppl = async (id: string): Promise<Record<string, number>> => {
          const out: Record<string, number> = {};
          for (const e of evals) out[e.label] = (await engine.perplexity(id, { text: e.text, textName: e.name, seqlen, maxWindows: o.evalWindows, language: e.language })).ppl;
          return out;
        };
        const record = (r: MixResult | PruneResult, mix: PruneResultRecord['mix'], weights: number[]): PruneResultRecord => {
          const report = 'report' in r ? r.report : { overall: r.overall, perMatrix: r.sparsity.flatMap((row, i) => row.map((s, j) => ({ layer: i, name: LINEAR_MATRICES[j], sparsity: s }))) };
          return pruneResultRecord(
            header,
            { method, ...pattern, calibration: { nsamples: mix!.windows.reduce((a, b) => a + b, 0), seqlen, seed: stats.seed ?? o.seed } },
            refs.map((s, k) => ({ ...s, ...(weights[k] > 0 ? { weight: weights[k] } : {}) })),
            report,
            LINEAR_MATRICES,
            mix,
          );
        };
        const dense = await ppl(base.id);
        const out = [];
        for (const w of mixes) {
          const req: MixRequest = { weights: w, method, ...pattern };
          const r = await engine.mixPrune(stats.id, req);
          const p = await ppl(r.model.id);
          const item: Record<string, unknown> = { weights: r.weights, updateMs: r.updateMs, ppl: p, result: record(r, { mode: 'instant', weights: r.weights, windows: r.mix.windows, updateMs: r.updateMs }, r.weights) };
          if (!o.json) {
            console.log(`mix ${labels.map((l, k) => `${l}=${r.weights[k].toFixed(3)}`).join(' ')}: instant (no forward pass) ${r.updateMs.toFixed(0)} ms, ${quantize ? `${method} ${quantize.bits}-bit` : `sparsity ${r.overall.toFixed(4)}`}`);
            for (const e of evals) console.log(`  ppl ${e.label.padEnd(8)} dense ${dense[e.label].toFixed(3)}  instant ${p[e.label].toFixed(3)}`);
          }
          if (o.confirm) {
            const c = await engine.confirmMix(stats.id, req, { onProgress: progress });
            const pe = await ppl(c.exact.model.id);
            // pruning: mask IoU; a quantizing method (GPTQ): the share of equal integer codes
            const codes = c.agreement === 'codes-equal';
            item.confirm = { windows: c.windows, agreement: c.agreement, ...(codes ? { layerCodes: c.layerIou, codes: c.overlap.iou } : { layerIou: c.layerIou, iou: c.overlap.iou }), ppl: pe, result: record(c.exact, { mode: 'confirm', weights: c.instant.weights, windows: c.windows, ...(codes ? { layerCodes: c.layerIou } : { layerIou: c.layerIou }) }, c.instant.weights) };
            if (!o.json) {
              console.log(`  confirm: exact sequential ${codes ? 'quantize' : 'prune'} on ${c.windows.map((n, k) => `${n} ${labels[k]}`).join(' + ')} windows`);
              console.log(`  ${codes ? 'integer codes equal, instant vs exact' : 'mask IoU instant vs exact'}, per layer: ${c.layerIou.map((v) => (v === null ? '-' : v.toFixed(4))).join(' ')}`);
              for (const e of evals) console.log(`  ppl ${e.label.padEnd(8)} instant ${p[e.label].toFixed(3)}  exact ${pe[e.label].toFixed(3)}  (difference ${(p[e.label] - pe[e.label]).toFixed(3)})`);
            }
            await engine.unloadModel(c.exact.model.id);
          }
          out.push(item);
        }
        const counters = await engine.counters();
        if (o.json) console.log(JSON.stringify({ stats, dense, mixes: out, counters }, null, 2));
        else {
          const of = `${mixStatistics(stats.method)} of ${stats.sources.map((s) => `${s.windows} ${s.name}`).join(' + ')} windows`;
          console.log(`calibration passes ${counters.calibrationRuns} (${stored ? `${of} read from ${o.loadStats}` : `${stats.collectMs.toFixed(0)} ms for the ${of}`}${o.saveStats ? `, saved to ${o.saveStats}` : ''})`);
        }
      } finally {
        await engine.dispose();
      }
    });
}
