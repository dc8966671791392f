import { addHubOptions, hubText, isHubSource, textBytesFor, type HubCliOptions } from './hubData';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { addProfileOptions, bitsArg, methodArg, nmArg, settingsArgs, sparsityArg, type PruneCliFields } from './pattern';
import { METHODS, PRUNE_METHODS, LINEAR_MATRICES, hubTextRef, methodSpec } from '../engine';
import { modelRefOf, pruneResultRecord, recordHeader, type SourceRef } from '../experiment/records';
import { sha256Hex } from '../calib/text';
import { isGenSource } from '../calib/genSource';
import { addGenOptions, pendingGen, writeGenerated, type GenCliOptions, type PendingGen } from './genCalib';
import { PolyPruneError, throwIfAborted } from '../common/errors';
import { fmtBytes } from '../common/format';
import type { CalibrationText, PruneMethod, PruneRequest } from '../engine';
import { checkOutputFree } from '../export/node';
import { exportToFolder, parseFormat } from './export';
import { readTokenWindows } from './windows';
import { readTextHead } from './text';
import { createEngine, modelSpec, parseIntArg, seedArg } from './main';
import { progressPrinter } from './progress';
import { cliSignal, removeOnHardExit } from './cancel';
import { totalmem } from 'node:os';
import { describePlan } from '../engine';

/** The options of `prune`: the settings schema's fields (pattern.ts) and the run's. */
export interface PruneCliOptions extends Omit<PruneCliFields, 'quantize'> {
  model: string;
  method: string;
  calib?: string[];
  calibTokens?: string;
  calibWeights?: string;
  nsamples: number;
  seqlen: number;
  seed: number;
  out: string;
  format?: string;
  json?: boolean;
  plan?: boolean;
  gpuMemory?: number;
  recon?: boolean;
  bits?: number;
}

function parseGiB(v: string): number {
  const x = Number(v);
  if (!(x > 0 && Number.isFinite(x))) throw new InvalidArgumentError(`--gpu-memory must be a positive number of GiB (got '${v}').`);
  return x * 1024 ** 3;
}

/** The calibration options of `prune` and `quantize` (read by {@link calibrationArgs}; the --gen-* options are added by the caller with addGenOptions). */
export function addCalibrationOptions(cmd: Command): Command {
  return cmd
    .option('--calib <files...>', "calibration text files (UTF-8), Hub corpora such as hub:mc4:de, hub:fineweb2:sw, hub:wikipedia:de, hub:<org/name>:<config>[:<split>[:<column>]], or text the model writes itself as gen:de, gen:de:bos or gen:de:<prompt> (--gen-* options, docs/generate.md); several are mixed")
    .option('--calib-weights <w,...>', 'share of windows per calibration file (default equal)')
    .option('--calib-tokens <file.safetensors>', "explicit token windows: 'input_ids' I32 [n, seqlen] (instead of --calib)")
    .option('--nsamples <n>', 'calibration windows', parseIntArg('--nsamples'), 128)
    .option('--seqlen <n>', 'tokens per calibration window', parseIntArg('--seqlen'), 2048)
    .option('--seed <n>', 'seed of the window sampler (Python random, as wanda)', seedArg('--seed'), 0);
}

export function registerPrune(program: Command): void {
  const cmd = addCalibrationOptions(
    program
      .command('prune')
    .description('Prune a model layer by layer (Wanda, SparseGPT or magnitude) and write a Hugging Face checkpoint plus pruning.json.')
    .requiredOption('-m, --model <dir|url>', 'model folder or URL')
    .requiredOption('--method <name>', `pruning method: ${PRUNE_METHODS.filter((m) => !methodSpec(m).quantizes).join(', ')}`)
    .option('--sparsity <ratio>', 'unstructured sparsity in (0, 1), e.g. 0.5', sparsityArg)
    .option('--nm <N:M>', 'semi-structured: keep N of every M consecutive weights per row, e.g. 2:4', nmArg),
  )
    .option('-o, --out <dir>', 'output folder (must not exist; required unless --plan)')
    .option('--format <hf|onnx>', 'output format: hf (safetensors) or onnx (transformers.js layout)', 'hf')
    .option('--recon', 'measure each matrix\'s relative reconstruction error on the calibration activations (slower: a Gram matrix per input)')
    .option('--json', 'print the pruning record as JSON')
    .option('--plan', 'only print what the run needs (GPU memory, biggest binding, download) against this adapter, and exit')
    .option('--gpu-memory <GiB>', 'GPU memory available (WebGPU does not report it); the run is refused when it needs more', parseGiB)
    .option('--bits <n>', "also quantize the kept weights to 2, 3, 4 or 8 bits per channel in the same pass (SparseGPT's joint mode, docs/quantize.md)", bitsArg);
  addGenOptions(addHubOptions(addProfileOptions(cmd))).action(async (o: PruneCliOptions & HubCliOptions & GenCliOptions, cmd: Command) => {
      if (o.out === undefined && !o.plan) throw new PolyPruneError('BAD_ARGUMENT', "required option '-o, --out <dir>' not specified (or give --plan).");
      if (methodSpec(methodArg(o.method)).quantizes) throw new PolyPruneError('BAD_ARGUMENT', `${o.method} quantizes and prunes nothing: run polyprune quantize --method ${o.method} --bits 4 (for example).`);
      // --bits with a pruning method: SparseGPT's joint mode; the one parse refuses it for a method that cannot
      const { method, fields } = settingsArgs({ ...o, ...(o.bits !== undefined ? { quantize: { bits: o.bits } } : {}) });
      const format = parseFormat(o.format);
      if (o.out !== undefined) await checkOutputFree(o.out);
      const gens: PendingGen[] = [];
      const calibration = await calibrationArgs(o, method, gens);

      const engine = createEngine();
      const ctrl = { opId: 'prune' };
      const unregister = o.out !== undefined ? removeOnHardExit(`${path.resolve(o.out)}.partial-${process.pid}`) : () => undefined;
      const progress = progressPrinter();
      try {
        // What the run needs, from config.json and the checkpoint headers only: refuse before downloading.
        const spec = modelSpec(o.model);
        const windows = calibration && 'windows' in calibration ? calibration.windows : undefined;
        const plan = await engine.plan(spec, { method, nsamples: windows?.n ?? o.nsamples, seqlen: windows?.seqlen ?? o.seqlen, gpuMemoryBytes: o.gpuMemory, hostMemoryBytes: totalmem() });
        if (o.plan) {
          if (o.json) console.log(JSON.stringify(plan, null, 2));
          else console.log(describePlan(plan).join('\n'));
          if (plan.problems.length) throw new PolyPruneError('GPU_LIMITS', `This run cannot work here: ${plan.problems.join(' ')}`);
          return;
        }
        if (!o.json) process.stderr.write(`${describePlan(plan).join('\n')}\n`);
        if (plan.problems.length) throw new PolyPruneError('GPU_LIMITS', `Refused before loading the weights: ${plan.problems.join(' ')}`);
        const base = await engine.loadModel(spec, { onProgress: progress });
        if (calibration && 'texts' in calibration && o.seqlen > base.maxPositionEmbeddings) {
          throw new PolyPruneError('BAD_ARGUMENT', `${cmd.getOptionValueSource('seqlen') === 'default' ? 'the default ' : ''}--seqlen ${o.seqlen} is longer than the model's context (max_position_embeddings ${base.maxPositionEmbeddings}); give --seqlen ${base.maxPositionEmbeddings} or less.`);
        }
        // gen: sources are written by the dense model now, as in the grid (docs/generate.md)
        await writeGenerated(engine, base.id, gens, progress);
        throwIfAborted(cliSignal());
        const res = await engine.prune(base.id, { method, ...fields, calibration, reconstructionError: o.recon }, { ...ctrl, onProgress: progress });
        throwIfAborted(cliSignal());
        const written = await exportToFolder(engine, res.model.id, o.out!, { format }, { ...ctrl, onProgress: progress });
        if (o.json) {
          const texts = calibration && 'texts' in calibration ? calibration.texts : [];
          const refs = [];
          for (const t of texts) {
            const bytes = t.bytes ?? new TextEncoder().encode(t.text ?? '');
            refs.push({ name: t.name, language: t.language ?? null, bytes: bytes.byteLength, sha256: await sha256Hex(bytes), ...(t.weight !== undefined ? { weight: t.weight } : {}), ...(hubRefs.has(t) ? { hub: hubRefs.get(t) } : {}), ...(t.generated ? { generated: t.generated } : {}) });
          }
          const result = pruneResultRecord(recordHeader(modelRefOf(base), (await engine.gpuInfo()).description), { method, sparsity: o.sparsity, nm: o.nm, calibration, langBeta: o.langBeta }, refs, res.report, LINEAR_MATRICES);
          console.log(JSON.stringify({ out: written.path, files: written.files, record: res.record, timings: res.report.timings, peakGpuBytes: res.report.peakGpuBytes, result }, null, 2));
        }
        else {
          console.log(`pruned         ${res.model.name}: ${res.report.method} ${res.report.structure}, overall sparsity ${res.report.overall.toFixed(6)}`);
          console.log(`time           ${(res.report.timings.totalMs / 1000).toFixed(2)} s (forward ${(res.report.timings.forwardMs / 1000).toFixed(2)} s, scoring ${(res.report.timings.scoringMs / 1000).toFixed(2)} s)`);
          console.log(`peak GPU       ${fmtBytes(res.report.peakGpuBytes, { unit: 'MiB' })}`);
          const lp = res.report.layerProfile;
          if (lp.profile === 'owl') {
            console.log(`OWL            M ${lp.m}, lambda ${lp.lambda}; per layer: outlier ratio %, target sparsity`);
            lp.target.forEach((t, i) => console.log(`  layer ${String(i).padEnd(4)} ${lp.outlierRatio[i].toFixed(4).padStart(9)}  ${t.toFixed(6)}`));
          }
          if (res.report.languageAware) console.log(`wanda-lang     beta ${res.report.languageAware.beta}, sources ${res.report.languageAware.sources.map((s) => `${s.name} (${s.samples})`).join(', ')}`);
          console.log(`wrote          ${written.path} (${written.files.join(', ')})`);
          if (o.recon) {
            console.log('reconstruction error ||WX - W\'X||^2 / ||WX||^2 on the calibration activations, mean over layers:');
            for (const name of LINEAR_MATRICES) {
              const v = res.report.perMatrix.filter((m) => m.name === name && m.reconError != null).map((m) => m.reconError!);
              if (v.length) console.log(`  ${name.padEnd(18)} ${(v.reduce((a, b) => a + b, 0) / v.length).toExponential(3)}`);
            }
          }
        }
      } finally {
        unregister();
        await engine.dispose();
      }
    });
}

/** Where each Hub calibration text came from, for the result record (the engine's request carries the text alone). */
const hubRefs = new WeakMap<CalibrationText, SourceRef['hub']>();

/**
 * The calibration of a prune or quantize run from the command line (--calib / --calib-tokens, Hub
 * sources), or undefined without calibration. A `gen:` source is a placeholder text pushed onto
 * `gens`: the caller has the model write it (writeGenerated) once the model is loaded.
 */
export async function calibrationArgs(o: PruneCliOptions & HubCliOptions & GenCliOptions, method: PruneMethod, gens: PendingGen[]): Promise<PruneRequest['calibration']> {
  let calibration: PruneRequest['calibration'];
  if (METHODS[method].calibrated) {
    if (!o.calib === !o.calibTokens) throw new PolyPruneError('BAD_ARGUMENT', `${method} needs calibration: give --calib <text files...> or --calib-tokens <file.safetensors> (one of them).`);
    if (o.calibTokens) {
      calibration = { windows: await readTokenWindows(o.calibTokens) };
    } else {
      const files = o.calib!;
      const weights = o.calibWeights ? o.calibWeights.split(',').map(Number) : undefined;
      if (weights && (weights.length !== files.length || weights.some((w) => !(w > 0 && Number.isFinite(w))))) {
        throw new PolyPruneError('BAD_ARGUMENT', `--calib-weights '${o.calibWeights}': give ${files.length} positive finite numbers, one per --calib file (e.g. ${files.map(() => 1).join(',')}).`);
      }
      const texts: CalibrationText[] = [];
      for (const [i, f] of files.entries()) {
        if (isGenSource(f)) {
          // nsamples windows of --gen-tokens (default seqlen) new tokens, as a grid row writes them
          const g = pendingGen(f, o, o.nsamples, o.seqlen);
          if (weights) g.text.weight = weights[i];
          gens.push(g);
          texts.push(g.text);
          continue;
        }
        if (isHubSource(f)) {
          const t = await hubText(f, textBytesFor(o.nsamples, o.seqlen), o);
          texts.push({ name: t.name, bytes: new TextEncoder().encode(t.text), ...(t.language ? { language: t.language } : {}), weight: weights?.[i] });
          hubRefs.set(texts[texts.length - 1], hubTextRef(t.provenance));
          continue;
        }
        const bytes = await readTextHead(f, o.nsamples * o.seqlen + 1, 'Calibration file', (w) => process.stderr.write(`polyprune: warning: ${w}\n`));
        texts.push({ name: path.basename(f), bytes, weight: weights?.[i] });
      }
      calibration = { texts, nsamples: o.nsamples, seqlen: o.seqlen, seed: o.seed };
    }
  } else if (o.calib || o.calibTokens) {
    throw new PolyPruneError('BAD_ARGUMENT', 'magnitude pruning uses no calibration; drop --calib/--calib-tokens.');
  }
  return calibration;
}
