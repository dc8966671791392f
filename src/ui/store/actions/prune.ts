/** Pruning a copy of the active model (exports: ./export.ts). */
import { PolyPruneError } from '../../../common/errors';
import type { CalibrationText, PruneRequest } from '../../../engine/api';
import { calibrationTexts, patternProblem, profileProblem } from './experiment';
import { calibTextUrl } from '../../paths';
import type { LayerProfileSetting, PruneMethod, SparsityPattern } from '../pruneSlice';
import { activeModel, bundledText, getEngine, runOp, store } from './core';

/** The engine request for the prune form's settings and calibration text (null text: magnitude). */
export function pruneRequest(method: PruneMethod, pattern: SparsityPattern, calib: { texts: CalibrationText[]; nsamples: number; seqlen: number } | null, profile?: LayerProfileSetting): PruneRequest {
  return {
    method,
    ...(profile?.profile === 'owl' ? { profile: 'owl' as const, owlM: profile.owlM, owlLambda: profile.owlLambda } : {}),
    ...(pattern.kind === 'nm' ? { nm: { n: pattern.n, m: pattern.m } } : { sparsity: pattern.sparsity }),
    calibration: calib ? { texts: calib.texts, nsamples: calib.nsamples, seqlen: calib.seqlen } : undefined,
  };
}

/** Prune a copy of the active model with the form's settings; the copy becomes the active model. */
export async function runPrune(): Promise<void> {
  const model = activeModel('prune');
  if (!model) return;
  const { pruneMethod, prunePattern, calibLanguage, calibSamples, seqlen, layerProfile } = store();
  const patternError = patternProblem(prunePattern) ?? profileProblem(pruneMethod, prunePattern, layerProfile);
  if (patternError) {
    store().pushMessage({ panel: 'prune', level: 'error', code: 'BAD_ARGUMENT', text: patternError });
    return;
  }
  if (pruneMethod !== 'magnitude' && !(Number.isInteger(calibSamples) && calibSamples >= 1)) {
    store().pushMessage({ panel: 'prune', level: 'error', code: 'BAD_ARGUMENT', text: 'Calibration windows must be a whole number of at least 1.' });
    return;
  }
  const result = await runOp('prune', `Pruning ${model.name} (${pruneMethod})`, async (opts) => {
    // `src:<id>`: a calibration source of the Experiment panel (a file, bundled text or mix); else a bundled language.
    const src = calibLanguage.startsWith('src:') ? store().sources.find((x) => `src:${x.id}` === calibLanguage) : undefined;
    if (calibLanguage.startsWith('src:') && !src) throw new PolyPruneError('BAD_ARGUMENT', 'That calibration source was removed; choose another one.');
    const texts: CalibrationText[] = src
      ? calibrationTexts(src, store().sources)
      : [{ name: `calib/${calibLanguage}.txt`, text: await bundledText(calibTextUrl(calibLanguage), `Calibration text '${calibLanguage}'`), language: calibLanguage }];
    const calib = pruneMethod === 'magnitude' ? null : { texts, nsamples: calibSamples, seqlen };
    return getEngine().prune(model.id, pruneRequest(pruneMethod, prunePattern, calib, layerProfile), opts);
  });
  if (!result) return;
  store().addModel(result.model);
  store().setPruneReport(result.model.id, result.report);
  store().pushMessage({
    panel: 'prune',
    level: 'info',
    text: `Made ${result.model.name}: ${(result.report.overall * 100).toFixed(1)} % of the prunable weights are zero. It is now the active model.`,
  });
}
