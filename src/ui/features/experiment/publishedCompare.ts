/**
 * "Compare with the published model": a row of the live experiment whose settings match a checkpoint
 * Kurz et al. published (multilingual-pruning on the Hub; src/experiment/published.ts) is pruned again
 * with its own settings (the same request as the run, so the same masks), and the engine compares its
 * masks with the published checkpoint's zero weights matrix by matrix, streamed (Engine.compareModels),
 * and measures both models' perplexity on the row's held-out text.
 */
import { PolyPruneError } from '../../../common/errors';
import type { ModelSpec } from '../../../engine';
import { parsePublishedModels, publishedCalibration, publishedCandidates, type PublishedModel, type PublishedRun } from '../../../experiment/published';
import { hubEndpoint, publishedModelsParam } from '../../paths';
import { hubToken } from '../model/hubToken';
import { errorText, getEngine, runOp, store } from '../../store/actions/core';
import type { ExperimentRun, ExpRow } from './experimentSlice';
import { calibrationTexts, liveRunEvalText } from './actions';

/** Extra base models from `?publishedModel=` (malformed entries are left out). */
function extraModels(): PublishedModel[] {
  try {
    return parsePublishedModels(publishedModelsParam());
  } catch {
    return [];
  }
}

/** The published run a row stands for with `seed` (default the run's first), or null when its settings match no published name. */
export function publishedRunOf(run: ExperimentRun, row: ExpRow, seed = run.settings.seeds[0]): PublishedRun | null {
  if (row.id === 'dense' || row.mode || !run.modelSource || run.settings.owl || run.settings.instant) return null;
  const src = store().sources.find((x) => x.id === row.id);
  const calib = publishedCalibration(src && src.origin !== 'mix' ? [src.name] : []);
  if (!calib) return null;
  const p = run.settings.pattern;
  return {
    model: run.modelSource,
    method: run.settings.method,
    ratio: p.kind === 'nm' ? (p.m - p.n) / p.m : p.sparsity,
    ...(p.kind === 'nm' ? { nm: { n: p.n, m: p.m } } : {}),
    dataset: calib.dataset,
    language: calib.language,
    seed,
  };
}

/** The Hub ids the row's published checkpoint of `seed` may have ([] when none can match). */
export function publishedCandidatesOf(run: ExperimentRun, row: ExpRow, seed?: number): string[] {
  const r = publishedRunOf(run, row, seed);
  return r ? publishedCandidates(r, extraModels()) : [];
}

/**
 * Compare a row of the live run, pruned again with `seed` (default the run's first; any seed, also one
 * the run did not use, e.g. the study's 42 and 1234), with the published checkpoint of that seed (the
 * first candidate name the Hub has).
 */
export async function compareWithPublished(rowId: string, seedIn?: number): Promise<void> {
  const run = store().expRun;
  const row = run?.rows.find((r) => r.id === rowId);
  if (!run || !row) return;
  const seed = seedIn ?? run.settings.seeds[0];
  const set = (patch: Parameters<ReturnType<typeof store>['setExpPublished']>[2]): void => store().setExpPublished(rowId, run.id, patch);
  const candidates = publishedCandidatesOf(run, row, seed);
  const src = store().sources.find((x) => x.id === row.id);
  const model = store().models.find((m) => m.id === run.modelId);
  const bad = (text: string, code = 'BAD_ARGUMENT'): void => {
    set({ status: 'failed', error: text });
    store().pushMessage({ panel: 'experiment', level: 'error', code, text });
  };
  if (!candidates.length || !src) return bad(`'${row.label}' matches no published checkpoint name (one Hub corpus source, a model the naming table knows).`);
  if (!model) return bad(`The model of this experiment (${run.modelName}) is no longer loaded; load it again and re-run the experiment to compare its rows.`);
  const s = run.settings;
  const language = row.language && s.evalLanguages.includes(row.language) ? row.language : s.evalLanguages[0];
  const text = liveRunEvalText(run.id, language);
  set({ status: 'running', seed, repo: null, tried: [], error: undefined });
  await runOp('experiment', `Compare '${row.label}' (seed ${seed}) with the published model`, async (opts, signal) => {
    const engine = getEngine();
    const p = s.pattern;
    const pruned = await engine.prune(
      model.id,
      {
        method: s.method,
        ...(p.kind === 'nm' ? { nm: { n: p.n, m: p.m } } : { sparsity: p.sparsity }),
        calibration: { texts: calibrationTexts(src, store().sources), nsamples: s.nsamples, seqlen: s.seqlen, seed },
      },
      opts,
    );
    try {
      const tried: string[] = [];
      for (const repo of candidates) {
        if (signal.aborted) throw new PolyPruneError('CANCELLED', 'Cancelled.');
        tried.push(repo);
        const spec: ModelSpec = { kind: 'hub', id: repo, endpoint: hubEndpoint(), token: hubToken() || undefined, name: repo };
        try {
          const r = await engine.compareModels({ modelId: pruned.model.id }, { model: spec }, text ? { text: text.text, textName: text.name, seqlen: s.seqlen, maxWindows: s.evalWindows, language } : {}, opts);
          set({
            status: 'done',
            repo,
            tried,
            matrices: r.matrices,
            iou: r.iou,
            layerIou: r.layerIou,
            meanIou: r.meanIou,
            sparsity: r.sparsity,
            ...(r.ppl ? { ppl: { row: r.ppl[0].ppl, published: r.ppl[1].ppl, text: text!.name, language, windows: r.ppl[0].windows, seqlen: s.seqlen } } : {}),
          });
          return;
        } catch (e) {
          if ((e as PolyPruneError)?.code !== 'FILE_NOT_FOUND') throw e;
          set({ tried: [...tried] });
        }
      }
      // an answer, not a failure: said in the row only (no error notice on top of it)
      set({ status: 'failed', error: `The Hub has no published checkpoint for '${row.label}' with seed ${seed} (tried ${tried.join(', ')}).` });
    } catch (e) {
      set({ status: 'failed', error: errorText(e) });
      throw e;
    } finally {
      await engine.unloadModel(pruned.model.id).catch(() => undefined);
    }
  });
  if (store().expPublished.find((x) => x.rowId === rowId && x.runId === run.id)?.status === 'running') set({ status: 'failed', error: 'Stopped.' });
}
