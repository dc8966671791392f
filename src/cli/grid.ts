import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { PolyPruneError } from '../common/errors';
import { runGrid, gridMarkdown, ownLanguageWins, type GridSpec } from '../experiment/grid';
import { createEngine, modelSpec, parseIntArg } from './main';
import { progressPrinter } from './progress';
import { decodeUtf8Strict } from './text';

export function registerGrid(program: Command): void {
  program
    .command('grid')
    .description('The study\'s matrix: prune once per calibration language, measure held-out perplexity in every evaluation language.')
    .requiredOption('-m, --model <dir|url>', 'model folder or URL')
    .requiredOption('--data <dir>', 'folder with calib/<lang>.txt and eval/<lang>.txt (the bundled model has them)')
    .requiredOption('--calib-langs <l,...>', 'calibration languages (rows)')
    .option('--eval-langs <l,...>', 'evaluation languages (columns; default: the calibration languages)')
    .option('--method <name>', 'wanda, sparsegpt or magnitude', 'wanda')
    .option('--sparsity <ratio>', 'unstructured sparsity', Number)
    .option('--nm <N:M>', 'semi-structured N:M, e.g. 2:4')
    .option('--nsamples <n>', 'calibration windows', parseIntArg('--nsamples'), 32)
    .option('--seqlen <n>', 'calibration window length', parseIntArg('--seqlen', 2), 128)
    .option('--seed <n>', 'sampler seed', parseIntArg('--seed', 0), 0)
    .option('--eval-seqlen <n>', 'evaluation window length', parseIntArg('--eval-seqlen', 2), 128)
    .option('--eval-max-windows <n>', 'evaluation windows per language', parseIntArg('--eval-max-windows'))
    .option('--json', 'print JSON')
    .action(async (o: { model: string; data: string; calibLangs: string; evalLangs?: string; method: string; sparsity?: number; nm?: string; nsamples: number; seqlen: number; seed: number; evalSeqlen: number; evalMaxWindows?: number; json?: boolean }) => {
      const nm = o.nm ? /^(\d+):(\d+)$/.exec(o.nm) : null;
      if (o.nm && !nm) throw new PolyPruneError('BAD_ARGUMENT', `--nm must look like 2:4, got '${o.nm}'.`);
      const calibLanguages = o.calibLangs.split(',').map((s) => s.trim()).filter(Boolean);
      const spec: GridSpec = {
        method: o.method as GridSpec['method'],
        sparsity: o.sparsity ?? (nm ? undefined : 0.5),
        nm: nm ? { n: Number(nm[1]), m: Number(nm[2]) } : undefined,
        calibLanguages,
        evalLanguages: o.evalLangs ? o.evalLangs.split(',').map((s) => s.trim()).filter(Boolean) : calibLanguages,
        nsamples: o.nsamples,
        seqlen: o.seqlen,
        seed: o.seed,
        evalSeqlen: o.evalSeqlen,
        evalMaxWindows: o.evalMaxWindows,
      };
      const read = async (kind: 'calib' | 'eval', lang: string) => {
        const f = path.join(o.data, kind, `${lang}.txt`);
        let bytes: Uint8Array;
        try {
          bytes = await readFile(f);
        } catch {
          throw new PolyPruneError('FILE_NOT_FOUND', `No ${kind === 'calib' ? 'calibration' : 'evaluation'} text for '${lang}': ${f} is missing.`);
        }
        return decodeUtf8Strict(bytes, f);
      };
      const engine = createEngine();
      try {
        const progress = o.json ? undefined : progressPrinter();
        const m = await engine.loadModel(modelSpec(o.model), { onProgress: progress });
        const g = await runGrid(engine, m.id, spec, { calib: (l) => read('calib', l), eval: (l) => read('eval', l) }, { onProgress: progress });
        if (o.json) console.log(JSON.stringify({ model: m.source, ...g, ownLanguage: ownLanguageWins(g) }, null, 2));
        else {
          console.log(`perplexity after ${spec.method} ${spec.nm ? `${spec.nm.n}:${spec.nm.m}` : spec.sparsity} (rows: calibration language, columns: evaluation language; bold = best calibration for that column)\n`);
          console.log(gridMarkdown(g));
          console.log('\nbits per byte\n');
          console.log(gridMarkdown(g, 'bitsPerByte'));
          const own = ownLanguageWins(g);
          console.log(`\nown-language calibration gives the lowest perplexity for ${own.filter((w) => w.wins).length} of ${own.length} languages`);
        }
      } finally {
        await engine.dispose();
      }
    });
}
