/** The language matrix: the study's experiment on bundled texts. */
import type { GridSpec } from '../../../experiment/grid';
import { calibTextUrl, evalTextUrl } from '../../paths';
import { activeModel, bundledText, getEngine, runOp, store, wholeAtLeast } from './core';

/** What step `done` (0-based) of a grid is doing, in runGrid's order: dense columns, then per row prune + columns. */
export function gridStepLabel(calib: string[], evl: string[], done: number): string {
  if (done < evl.length) return `dense model: perplexity ${evl[done]}`;
  const j = done - evl.length;
  const row = Math.floor(j / (evl.length + 1));
  const k = j % (evl.length + 1);
  if (row >= calib.length) return 'finishing';
  return k === 0 ? `pruning with ${calib[row]} calibration` : `${calib[row]}-calibrated model: perplexity ${evl[k - 1]}`;
}


/**
 * The study's experiment on the active model: prune once per selected calibration language, measure
 * held-out perplexity in every selected evaluation language (and the dense model), keep the matrix.
 */
export async function runMatrix(): Promise<void> {
  const model = activeModel('matrix');
  if (!model) return;
  const s = store();
  const bad = (text: string): void => s.pushMessage({ panel: 'matrix', level: 'error', code: 'BAD_ARGUMENT', text });
  if (s.languages.state !== 'ready') {
    s.pushMessage({ panel: 'matrix', level: 'error', code: 'FILE_NOT_FOUND', text: 'This build has no bundled calibration and evaluation texts, so the matrix cannot run.' });
    return;
  }
  const all = s.languages.languages;
  const calib = all.filter((l) => s.matrixCalib.includes(l));
  const evl = all.filter((l) => s.matrixEval.includes(l));
  if (!calib.length) return bad('Choose at least one calibration language.');
  if (!evl.length) return bad('Choose at least one evaluation language.');
  const pattern = s.matrixPattern;
  if (pattern.kind === 'unstructured' && !(pattern.sparsity > 0 && pattern.sparsity < 1)) return bad('Sparsity must be between 0 and 1 (e.g. 0.5 removes half of the weights).');
  if (!wholeAtLeast('matrix', s.matrixSeqlen, 2, 'Sequence length')) return;
  if (s.matrixSeqlen > model.maxPositionEmbeddings) return bad(`Sequence length ${s.matrixSeqlen} is longer than the model's context (${model.maxPositionEmbeddings} tokens).`);
  if (!wholeAtLeast('matrix', s.matrixEvalWindows, 1, 'Evaluation windows')) return;
  if (s.matrixMethod !== 'magnitude' && !wholeAtLeast('matrix', s.matrixNsamples, 1, 'Calibration windows')) return;
  const spec: GridSpec = {
    method: s.matrixMethod,
    ...(pattern.kind === 'nm' ? { nm: { n: pattern.n, m: pattern.m } } : { sparsity: pattern.sparsity }),
    calibLanguages: calib,
    evalLanguages: evl,
    nsamples: s.matrixMethod === 'magnitude' ? 1 : s.matrixNsamples,
    seqlen: s.matrixSeqlen,
    evalSeqlen: s.matrixSeqlen,
    evalMaxWindows: s.matrixEvalWindows,
  };
  const total = (calib.length + 1) * evl.length + calib.length;
  const t0 = performance.now();
  const run = await runOp('matrix', `Language matrix ${calib.length} × ${evl.length} (${s.matrixMethod}) on ${model.name}`, async (opts, signal) => {
    const overall = (done: number): void => store().setOpOverall(opts.opId, { done, total, message: gridStepLabel(calib, evl, done) });
    overall(0);
    const { runGrid, ownLanguageWins } = await import('../../../experiment/grid');
    const result = await runGrid(
      getEngine(),
      model.id,
      spec,
      {
        calib: (l) => bundledText(calibTextUrl(l), `Calibration text '${l}'`),
        eval: (l) => bundledText(evalTextUrl(l), `Evaluation text '${l}'`),
      },
      {
        opId: opts.opId,
        signal,
        onProgress: (e) => {
          // The grid's own steps carry its total; everything else comes from the engine call inside.
          if (e.kind === 'eval' && e.total === total) {
            store().setOpProgress(opts.opId, null);
            overall(e.done);
          } else opts.onProgress?.(e);
        },
      },
    );
    return { result, wins: ownLanguageWins(result) };
  });
  if (run) store().setMatrixRun({ modelId: model.id, modelName: model.name, result: run.result, wins: run.wins, elapsedMs: performance.now() - t0 });
}
