/**
 * `polyprune compare --model A --with B`: the mask IoU of two checkpoints of the same architecture
 * per layer and matrix (zero weights = pruned; streamed matrix by matrix, src/engine/compare.ts), and
 * both models' perplexity on the same text (`--text`, a file or a hub: corpus). `--with published`
 * takes the checkpoint Kurz et al. published for A's settings (multilingual-pruning on the Hub; the
 * naming rule in src/experiment/published.ts), read from A's pruning.json.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { PolyPruneError } from '../common/errors';
import { PUBLISHED_MODELS, parsePublishedModels, publishedCalibration, publishedCandidates, type PublishedModel } from '../experiment/published';
import { hubFolder } from '../io/hub';
import { fsError } from '../io/node';
import { createEngine, modelSpec, parseIntArg } from './main';
import { addHubOptions, hubText, isHubSource, textBytesFor, type HubCliOptions } from './hubData';
import { decodeUtf8Strict } from './text';

interface CompareOptions extends HubCliOptions {
  model: string;
  with: string;
  text?: string;
  seqlen: number;
  maxWindows: number;
  publishedModel?: string[];
}

/** The published checkpoint of A's settings: the first candidate name the Hub has. */
async function publishedOf(a: string, extra: PublishedModel[]): Promise<string> {
  const engine = createEngine();
  try {
    const s = await engine.loadModel(modelSpec(a));
    const p = s.pruning;
    if (!p) throw new PolyPruneError('BAD_ARGUMENT', `--with published needs a model pruned by PolyPrune (with pruning.json); ${a} is not one.`);
    const src = publishedCalibration(p.calibrationSources.map((c) => c.name));
    const nm = /^(\d+):(\d+)$/.exec(p.structure);
    const names = src && p.seed !== null ? publishedCandidates({ model: p.baseModel, method: p.method, ratio: p.sparsityRatio, nm: nm ? { n: Number(nm[1]), m: Number(nm[2]) } : undefined, dataset: src.dataset, language: src.language, seed: p.seed }, extra) : [];
    if (!names.length) throw new PolyPruneError('BAD_ARGUMENT', `No published checkpoint matches ${a}: the authors pruned ${PUBLISHED_MODELS.map((m) => m.hubId).join(', ')} (add another with --published-model <org/name>=<name part>) with one Hub calibration corpus (hub:mc4:<lang>) and a seed; this is ${p.baseModel}, ${p.method}, calibration ${p.calibrationSources.map((c) => c.name).join(' + ') || 'none'}.`);
    for (const n of names) {
      try {
        await hubFolder(n, { token: process.env.HF_TOKEN || undefined, endpoint: process.env.HF_ENDPOINT || undefined });
        return n;
      } catch (e) {
        if ((e as PolyPruneError)?.code !== 'FILE_NOT_FOUND') throw e;
      }
    }
    throw new PolyPruneError('FILE_NOT_FOUND', `The Hub has no published checkpoint for these settings (tried ${names.join(', ')}).`);
  } finally {
    await engine.dispose();
  }
}

export function registerCompare(program: Command): void {
  const cmd = program
    .command('compare')
    .description('Mask IoU per layer and matrix of two checkpoints of the same architecture (zero weights = pruned), and both models\' perplexity on the same text.')
    .requiredOption('-m, --model <dir|url|org/name>', 'first model')
    .requiredOption('--with <dir|url|org/name|published>', "second model; 'published': the checkpoint Kurz et al. published for the first model's settings")
    .option('--text <file|hub:...>', 'held-out text for both models\' perplexity (a file, or e.g. hub:mc4:de:validation)')
    .option('--seqlen <n>', 'perplexity window length', parseIntArg('--seqlen', 2), 128)
    .option('--max-windows <n>', 'perplexity windows', parseIntArg('--max-windows'), 8)
    .option('--published-model <org/name=part...>', "with '--with published': the <model> part of the published names for a base model the table lacks (e.g. my-org/llama-copy=llama3-8b-instruct)")
    .option('--json', 'print JSON');
  addHubOptions(cmd).action(async (o: CompareOptions) => {
    const extra = parsePublishedModels((o.publishedModel ?? []).join(' '));
    const other = o.with === 'published' ? await publishedOf(o.model, extra) : o.with;
    let text: string | undefined;
    if (o.text) {
      if (isHubSource(o.text)) text = (await hubText(o.text, textBytesFor(o.maxWindows, o.seqlen), o)).text;
      else {
        try {
          text = decodeUtf8Strict(await readFile(o.text), o.text);
        } catch (e) {
          if (e instanceof PolyPruneError) throw e;
          throw fsError(o.text, e);
        }
      }
    }
    const engine = createEngine();
    let r;
    try {
      r = await engine.compareModels({ model: modelSpec(o.model) }, { model: modelSpec(other) }, text === undefined ? {} : { text, textName: o.text, seqlen: o.seqlen, maxWindows: o.maxWindows }, {
        onProgress: o.json ? undefined : (e) => e.kind === 'eval' && e.message.startsWith('mask IoU') && process.stderr.write(`\rcompare: ${e.message.slice('mask IoU: '.length)}        `),
      });
    } finally {
      await engine.dispose();
    }
    if (!o.json) process.stderr.write('\n');
    const overlap = r;
    const ppl = r.ppl ? { a: r.ppl[0].ppl, b: r.ppl[1].ppl } : undefined;
    const mean = r.meanIou;
    const r4 = (v: number | null) => (v === null ? null : Math.round(v * 1e4) / 1e4);
    if (o.json) {
      console.log(JSON.stringify({ model: o.model, with: other, matrices: overlap.matrices, iou: overlap.iou.map((row) => row.map(r4)), meanIou: r4(mean), sparsity: overlap.sparsity, ...(ppl ? { ppl, text: o.text, seqlen: o.seqlen, maxWindows: o.maxWindows } : {}) }, null, 2));
      return;
    }
    console.log(`mask IoU of ${o.model} and ${other} (zero weights; zeros ${(overlap.sparsity[0] * 100).toFixed(2)} % and ${(overlap.sparsity[1] * 100).toFixed(2)} %)`);
    const short = overlap.matrices.map((m) => m.split('.').pop()!);
    console.log(['layer', ...short].map((s) => s.padStart(9)).join(''));
    for (const [l, row] of overlap.iou.entries()) console.log([String(l), ...row.map((v) => (v === null ? '-' : v.toFixed(4)))].map((s) => s.padStart(9)).join(''));
    console.log(`mean IoU ${mean === null ? '-' : mean.toFixed(4)}`);
    if (ppl) console.log(`perplexity on ${o.text}: ${o.model} ${ppl.a.toFixed(4)}, ${other} ${ppl.b.toFixed(4)}`);
  });
}
