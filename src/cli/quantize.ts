/**
 * `polyprune quantize --method gptq --bits 4 --group-size 128 [--act-order] [--static-groups]`: GPTQ
 * layer by layer on calibration windows (the same calibration options as `prune`), writing the
 * dequantized Hugging Face folder with pruning.json holding the settings (docs/quantize.md).
 */
import path from 'node:path';
import type { Command } from 'commander';
import { totalmem } from 'node:os';
import { PolyPruneError, throwIfAborted } from '../common/errors';
import { fmtBytes } from '../common/format';
import { checkQuantizedExport, quantizableShapes, type ExportFormat, type ModelSummary, type OnnxVariantName } from '../engine';
import { describePlan, methodSpec, methodsWhere, orList } from '../engine';
import { checkOutputFree } from '../export/node';
import { cliSignal, removeOnHardExit } from './cancel';
import { describeSizes, exportToFolder, parseFormat, parseOnnxVariants } from './export';
import { addHubOptions, type HubCliOptions } from './hubData';
import { createEngine, modelSpec } from './main';
import { bitsArg, groupSizeArg, methodArg, settingsArgs } from './pattern';
import { addCalibrationOptions, calibrationArgs, type PruneCliOptions } from './prune';
import { progressPrinter } from './progress';
import { addGenOptions, writeGenerated, type GenCliOptions, type PendingGen } from './genCalib';

interface QuantizeCliOptions extends Omit<PruneCliOptions, 'sparsity' | 'nm' | 'plan' | 'recon' | 'profile' | 'owlM' | 'owlLambda' | 'langBeta' | 'gpuMemory'> {
  bits: number;
  groupSize: number;
  actOrder?: boolean;
  staticGroups?: boolean;
  onnxVariants?: string;
}

export function registerQuantize(program: Command): void {
  const quantizers = methodsWhere((s) => !!s.quantizes);
  const cmd = addCalibrationOptions(
    program
      .command('quantize')
      .description('Quantize a model layer by layer with GPTQ on calibration text and write the dequantized Hugging Face checkpoint plus pruning.json (docs/quantize.md).')
      .requiredOption('-m, --model <dir|url>', 'model folder or URL')
      .requiredOption('--method <name>', `quantization method: ${quantizers.join(', ')}`)
      .requiredOption('--bits <n>', 'bits per weight: 2, 3, 4 or 8', bitsArg)
      .option('--group-size <n>', 'input columns per group of scale and zero (32, 64, 128, ...; per-channel or -1 for one group per row)', groupSizeArg, 128)
      .option('--act-order', 'quantize the columns in order of decreasing Hessian diagonal (desc_act)')
      .option('--static-groups', 'all group parameters from the weights before any update'),
  )
    .option('--format <format>', 'hf: dequantized float weights; hf-gptq: GPTQ checkpoint (qweight/qzeros/scales/g_idx; transformers, GPTQModel, vLLM); onnx: MatMulNBits for transformers.js (onnx/model_q4.onnx for 4 bits)', 'hf')
    .option('--onnx-variants <list>', 'onnx: graphs to write (default q<bits>; fp32,fp16 for the dequantized weights)')
    .requiredOption('-o, --out <dir>', 'output folder (must not exist)')
    .option('--json', 'print the record (pruning.json, with the quantization settings) and the export sizes as JSON');
  addGenOptions(addHubOptions(cmd)).action(async (o: QuantizeCliOptions & HubCliOptions & GenCliOptions, c: Command) => {
    if (!methodSpec(methodArg(o.method)).quantizes) throw new PolyPruneError('BAD_ARGUMENT', `${o.method} prunes; quantize with ${orList(quantizers)}, or run polyprune prune --method ${o.method}.`);
    const quantize = { bits: o.bits, groupSize: o.groupSize, actOrder: !!o.actOrder, staticGroups: !!o.staticGroups };
    const { method } = settingsArgs({ method: o.method, quantize });
    const format = parseFormat(o.format);
    const onnxVariants = parseOnnxVariants(o.onnxVariants);
    await checkOutputFree(o.out);
    const gens: PendingGen[] = [];
    const calibration = await calibrationArgs(o, method, gens);
    const engine = createEngine();
    const ctrl = { opId: 'quantize' };
    const unregister = removeOnHardExit(`${path.resolve(o.out)}.partial-${process.pid}`);
    const progress = progressPrinter();
    try {
      const spec = modelSpec(o.model);
      const windows = calibration && 'windows' in calibration ? calibration.windows : undefined;
      const plan = await engine.plan(spec, { method, nsamples: windows?.n ?? o.nsamples, seqlen: windows?.seqlen ?? o.seqlen, hostMemoryBytes: totalmem() });
      if (!o.json) process.stderr.write(`${describePlan(plan).join('\n')}\n`);
      if (plan.problems.length) throw new PolyPruneError('GPU_LIMITS', `Refused before loading the weights: ${plan.problems.join(' ')}`);
      const base = await engine.loadModel(spec, { onProgress: progress });
      // What the chosen format cannot hold is refused before any GPU work (checked again on export).
      checkFormatHolds(format, quantize, onnxVariants, base);
      if (calibration && 'texts' in calibration && o.seqlen > base.maxPositionEmbeddings) {
        throw new PolyPruneError('BAD_ARGUMENT', `${c.getOptionValueSource('seqlen') === 'default' ? 'the default ' : ''}--seqlen ${o.seqlen} is longer than the model's context (max_position_embeddings ${base.maxPositionEmbeddings}); give --seqlen ${base.maxPositionEmbeddings} or less.`);
      }
      await writeGenerated(engine, base.id, gens, progress);
      throwIfAborted(cliSignal());
      const res = await engine.prune(base.id, { method, calibration, quantize }, { ...ctrl, onProgress: progress });
      throwIfAborted(cliSignal());
      const written = await exportToFolder(engine, res.model.id, o.out, { format, onnxVariants }, { ...ctrl, onProgress: progress });
      const sizes = await engine.exportSizes(res.model.id);
      if (o.json) {
        console.log(JSON.stringify({ out: written.path, format, files: written.files, settings: { method, ...quantize }, exportBytes: sizes, record: res.record, timings: res.report.timings, peakGpuBytes: res.report.peakGpuBytes }, null, 2));
      } else {
        console.log(`quantized      ${res.model.name}: ${res.report.method} ${res.report.structure} (${format === 'hf' ? 'dequantized weights' : format === 'hf-gptq' ? 'GPTQ codes, hf-gptq' : 'ONNX'})`);
        console.log(`time           ${(res.report.timings.totalMs / 1000).toFixed(2)} s (forward ${(res.report.timings.forwardMs / 1000).toFixed(2)} s, quantizing ${(res.report.timings.scoringMs / 1000).toFixed(2)} s)`);
        console.log(`peak GPU       ${fmtBytes(res.report.peakGpuBytes, { unit: 'MiB' })}`);
        console.log(`wrote          ${written.path} (${written.files.join(', ')})`);
        console.log(`export sizes   (model files)\n${describeSizes(sizes).join('\n')}`);
      }
    } finally {
      unregister();
      await engine.dispose();
    }
  });
}

/**
 * The export format's refusals (src/export/gptq.ts) from the settings and the model's shapes, before
 * the calibration pass: the same one-line messages the export gives.
 */
function checkFormatHolds(format: ExportFormat, q: { bits: number; groupSize: number; actOrder: boolean; staticGroups: boolean }, variants: OnnxVariantName[] | undefined, m: ModelSummary): void {
  if (format === 'hf') return;
  const shapes = quantizableShapes(m);
  if (format === 'hf-gptq') return checkQuantizedExport('hf-gptq', q, shapes);
  if (!variants || variants.some((v) => v.startsWith('q'))) {
    if (variants?.some((v) => v.startsWith('q') && Number(v.slice(1)) !== q.bits)) throw new PolyPruneError('BAD_ARGUMENT', `--onnx-variants ${variants.join(',')} does not match --bits ${q.bits}.`);
    checkQuantizedExport('onnx', q, shapes);
  }
}
