/**
 * `polyprune quantize --method gptq --bits 4 --group-size 128 [--act-order] [--static-groups]`: GPTQ
 * layer by layer on calibration windows (the same calibration options as `prune`), writing the
 * dequantized Hugging Face folder with pruning.json holding the settings (docs/quantize.md).
 */
import path from 'node:path';
import type { Command } from 'commander';
import { totalmem } from 'node:os';
import { PolyPruneError } from '../common/errors';
import { describePlan, methodSpec, methodsWhere, orList } from '../engine';
import { checkOutputFree } from '../export/node';
import { removeOnHardExit, throwIfCancelled } from './cancel';
import { exportToFolder } from './export';
import { addHubOptions, type HubCliOptions } from './hubData';
import { createEngine, modelSpec, parseIntArg, seedArg } from './main';
import { bitsArg, groupSizeArg, methodArg } from './pattern';
import { calibrationArgs, type PruneCliOptions } from './prune';
import { progressPrinter } from './progress';

interface QuantizeCliOptions extends Omit<PruneCliOptions, 'sparsity' | 'nm' | 'format' | 'plan' | 'recon' | 'profile' | 'owlM' | 'owlLambda' | 'langBeta' | 'gpuMemory'> {
  bits: number;
  groupSize: number;
  actOrder?: boolean;
  staticGroups?: boolean;
}

export function registerQuantize(program: Command): void {
  const quantizers = methodsWhere((s) => !!s.quantizes);
  const cmd = program
    .command('quantize')
    .description('Quantize a model layer by layer with GPTQ on calibration text and write the dequantized Hugging Face checkpoint plus pruning.json (docs/quantize.md).')
    .requiredOption('-m, --model <dir|url>', 'model folder or URL')
    .requiredOption('--method <name>', `quantization method: ${quantizers.join(', ')}`)
    .requiredOption('--bits <n>', 'bits per weight: 2, 3, 4 or 8', bitsArg)
    .option('--group-size <n>', 'input columns per group of scale and zero (32, 64, 128, ...; per-channel or -1 for one group per row)', groupSizeArg, 128)
    .option('--act-order', 'quantize the columns in order of decreasing Hessian diagonal (desc_act)')
    .option('--static-groups', 'all group parameters from the weights before any update')
    .option('--calib <files...>', 'calibration text files (UTF-8), or Hub corpora such as hub:mc4:de (as prune)')
    .option('--calib-weights <w,...>', 'share of windows per calibration file (default equal)')
    .option('--calib-tokens <file.safetensors>', "explicit token windows: 'input_ids' I32 [n, seqlen] (instead of --calib)")
    .option('--nsamples <n>', 'calibration windows', parseIntArg('--nsamples'), 128)
    .option('--seqlen <n>', 'tokens per calibration window', parseIntArg('--seqlen'), 2048)
    .option('--seed <n>', 'seed of the window sampler (Python random, as wanda)', seedArg('--seed'), 0)
    .requiredOption('-o, --out <dir>', 'output folder (must not exist)')
    .option('--json', 'print the record (pruning.json, with the quantization settings) as JSON');
  addHubOptions(cmd).action(async (o: QuantizeCliOptions & HubCliOptions, c: Command) => {
    const method = methodArg(o.method);
    if (!methodSpec(method).quantizes) throw new PolyPruneError('BAD_ARGUMENT', `${method} prunes; quantize with ${orList(quantizers)}, or run polyprune prune --method ${method}.`);
    const quantize = { bits: o.bits, groupSize: o.groupSize, actOrder: !!o.actOrder, staticGroups: !!o.staticGroups };
    await checkOutputFree(o.out);
    const calibration = await calibrationArgs(o, method);
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
      if (calibration && 'texts' in calibration && o.seqlen > base.maxPositionEmbeddings) {
        throw new PolyPruneError('BAD_ARGUMENT', `${c.getOptionValueSource('seqlen') === 'default' ? 'the default ' : ''}--seqlen ${o.seqlen} is longer than the model's context (max_position_embeddings ${base.maxPositionEmbeddings}); give --seqlen ${base.maxPositionEmbeddings} or less.`);
      }
      const res = await engine.prune(base.id, { method, calibration, quantize }, { ...ctrl, onProgress: progress });
      throwIfCancelled();
      const written = await exportToFolder(engine, res.model.id, o.out, { format: 'hf' }, { ...ctrl, onProgress: progress });
      if (o.json) {
        console.log(JSON.stringify({ out: written.path, files: written.files, settings: { method, ...quantize }, record: res.record, timings: res.report.timings, peakGpuBytes: res.report.peakGpuBytes }, null, 2));
      } else {
        console.log(`quantized      ${res.model.name}: ${res.report.method} ${res.report.structure} (dequantized weights)`);
        console.log(`time           ${(res.report.timings.totalMs / 1000).toFixed(2)} s (forward ${(res.report.timings.forwardMs / 1000).toFixed(2)} s, quantizing ${(res.report.timings.scoringMs / 1000).toFixed(2)} s)`);
        console.log(`peak GPU       ${(res.report.peakGpuBytes / 2 ** 20).toFixed(1)} MiB`);
        console.log(`wrote          ${written.path} (${written.files.join(', ')})`);
      }
    } finally {
      unregister();
      await engine.dispose();
    }
  });
}
