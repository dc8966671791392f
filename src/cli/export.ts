import type { Command } from 'commander';
import { PolyPruneError, throwIfAborted } from '../common/errors';
import { EXPORT_FORMATS, ONNX_VARIANT_NAMES, type ExportFormat, type ExportRequest, type ExportSizes, type ModelSummary, type OnnxVariantName } from '../engine';
import type { LocalEngine } from '../engine/local';
import { checkOutputFree, nodeOutputSink } from '../export/node';
import { createEngine, modelSpec } from './main';
import { progressPrinter } from './progress';
import { cliSignal, removeOnHardExit } from './cancel';
import { resolve } from 'node:path';

/** --format value, checked. */
export function parseFormat(v: string | undefined): ExportFormat {
  const f = (v ?? 'hf') as ExportFormat;
  if (!EXPORT_FORMATS.includes(f)) throw new PolyPruneError('BAD_ARGUMENT', `Unknown --format '${v}'. Supported: ${EXPORT_FORMATS.join(', ')}.`);
  return f;
}

/** --onnx-variants value, checked (undefined: the exporter's default). */
export function parseOnnxVariants(v: string | undefined): OnnxVariantName[] | undefined {
  if (v === undefined) return undefined;
  const list = v.split(',').map((s) => s.trim());
  if (!list.length || list.some((x) => !(ONNX_VARIANT_NAMES as readonly string[]).includes(x))) {
    throw new PolyPruneError('BAD_ARGUMENT', `--onnx-variants takes a comma-separated list of ${ONNX_VARIANT_NAMES.join(', ')} (q4/q8/q2: a GPTQ model's codes; got '${v}').`);
  }
  return list as OnnxVariantName[];
}

/** One line per export format: the model files' bytes, or why the format cannot hold this model. */
export function describeSizes(sizes: ExportSizes): string[] {
  return EXPORT_FORMATS.map((f) => {
    const s = sizes[f];
    return `  ${f.padEnd(8)} ${'bytes' in s ? `${s.bytes} bytes (${Object.keys(s.files).join(', ')})` : `not possible: ${s.refused}`}`;
  });
}

/**
 * Export model `id` of `engine` into `out` (streamed into `<out>.partial-<pid>`, renamed at the end);
 * Ctrl-C cancels and removes the partial folder.
 */
export async function exportToFolder(engine: LocalEngine, id: string, out: string, req: ExportRequest, opts: { opId: string; onProgress?: (e: import('../common/progress').ProgressEvent) => void }): Promise<{ path: string; files: string[]; bytes: number }> {
  const sink = await nodeOutputSink(out);
  const r = await engine.exportTo(id, sink, req, opts);
  return { path: sink.path, ...r };
}

/** The pruning provenance lines of `info` (empty for an unpruned model). */
export function describePruning(s: ModelSummary): string {
  const p = s.pruning;
  if (!p) return '';
  const calib = p.calibrationSources.length ? p.calibrationSources.map((c) => (c.language ? `${c.name} (${c.language})` : c.name)).join(', ') : 'none recorded';
  return [
    `pruned         ${p.method} ${p.structure}, target ${p.sparsityRatio}, overall sparsity ${p.overallSparsity.toFixed(6)}`,
    `calibration    ${calib}${p.nsamples !== null ? `; ${p.nsamples} x ${p.seqlen} tokens, seed ${p.seed ?? 'n/a'}` : ''}`,
    ...(p.layerSparsity ? [`layer profile  OWL (M ${p.layerSparsity.m}, lambda ${p.layerSparsity.lambda}): ${p.layerSparsity.target.map((t) => t.toFixed(4)).join(', ')}`] : []),
    ...(p.langBeta !== undefined ? [`language-aware beta ${p.langBeta}: one statistic per calibration source`] : []),
    `base model     ${p.baseModel}`,
    `pruned by      ${p.tool}`,
  ].join('\n');
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('Export a model as a Hugging Face folder (sharded above 5 GB) or as ONNX in the layout transformers.js loads; streamed, one tensor in memory at a time.')
    .requiredOption('-m, --model <dir|url>', 'model folder or URL')
    .option('--format <format>', `output format: ${EXPORT_FORMATS.join(', ')} (hf-gptq: a GPTQ model's codes, only for a model quantized in the same run: polyprune quantize --format hf-gptq)`, 'hf')
    .option('--onnx-variants <list>', 'ONNX graphs: fp32,fp16 (default both)')
    .option('--max-shard-bytes <n>', 'hf: split the weights into shards of at most this many bytes', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new PolyPruneError('BAD_ARGUMENT', `--max-shard-bytes must be a positive integer (got '${v}').`);
      return n;
    })
    .requiredOption('-o, --out <dir>', 'output folder (must not exist)')
    .option('--json', 'print JSON')
    .action(async (o: { model: string; format?: string; onnxVariants?: string; maxShardBytes?: number; out: string; json?: boolean }) => {
      const format = parseFormat(o.format);
      const variants = parseOnnxVariants(o.onnxVariants);
      await checkOutputFree(o.out);
      const engine = createEngine();
      const ctrl = { opId: 'export' };
      const unregister = removeOnHardExit(`${resolve(o.out)}.partial-${process.pid}`);
      const progress = o.json ? undefined : progressPrinter();
      try {
        const m = await engine.loadModel(modelSpec(o.model), { onProgress: progress });
        throwIfAborted(cliSignal());
        const r = await exportToFolder(engine, m.id, o.out, { format, onnxVariants: variants, maxShardBytes: o.maxShardBytes }, { ...ctrl, onProgress: progress });
        if (o.json) console.log(JSON.stringify({ out: r.path, format, files: r.files, bytes: r.bytes, pruning: m.pruning ?? null }, null, 2));
        else console.log(`wrote          ${r.path} (${format}: ${r.files.join(', ')}; ${r.bytes} bytes)`);
      } finally {
        unregister();
        await engine.dispose();
      }
    });
}
