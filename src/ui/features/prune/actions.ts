/** Pruning a copy of the active model (exports: ./export.ts). */
import { PolyPruneError } from '../../../common/errors';
import { LINEAR_MATRICES, needsCalibration, prunedBytesText, type CalibrationText, type ModelSummary, type OpOptions, type PruneRequest, type RunPlan } from '../../../engine';
import { fmtBytes } from '../../format';
import { pruneResultRecord, type PruneResultRecord } from '../../../experiment/records';
import { calibrationTexts } from '../experiment/actions';
import { settingsFields, settingsProblem } from './settings';
import { calibTextUrl } from '../../paths';
import type { LayerProfileSetting, PruneMethod, SparsityPattern } from './pruneSlice';
import { activeModel, bundledText, getEngine, runOp, store } from '../../store/actions/core';
import { keepRecord, runHeader, textRef } from '../history/records';

/** The engine request for the prune form's settings and calibration text (null text: magnitude). */
export function pruneRequest(method: PruneMethod, pattern: SparsityPattern, calib: { texts: CalibrationText[]; nsamples: number; seqlen: number } | null, profile?: LayerProfileSetting): PruneRequest {
  return {
    ...settingsFields(method, pattern, profile),
    calibration: calib ? { texts: calib.texts, nsamples: calib.nsamples, seqlen: calib.seqlen } : undefined,
  };
}

/** What a prune with these settings is, in words ("wanda, 128 x 2048 calibration tokens"). */
export function pruneWhat(method: PruneMethod, nsamples: number, seqlen: number): string {
  return needsCalibration(method) ? `${method}, ${nsamples} x ${seqlen} calibration tokens` : method;
}

/** A prune's plan in one paragraph: GPU memory at the peak and its largest parts, host memory to export, or why it cannot run. */
export function prunePlanText(plan: RunPlan, what: string): string {
  if (plan.problems.length) return `This prune (${what}) cannot run on this GPU: ${plan.problems.join(' ')}`;
  const parts = [...plan.gpu].sort((a, b) => b.bytes - a.bytes).slice(0, 3).map((i) => `${i.kind} ${fmtBytes(i.bytes)}`);
  return `This prune (${what}) needs about ${fmtBytes(plan.gpuPeakBytes)} of GPU memory (${parts.join(', ')}${plan.packed ? '; 16-bit weights kept packed' : ''})${prunedBytesText(plan)}.`;
}

/** The plan of a prune of the active model with the Prune panel's settings (null: no model, or the engine could not tell). */
export async function activePrunePlan(): Promise<string | null> {
  const { activeModelId, pruneMethod, calibSamples, seqlen } = store();
  if (!activeModelId || (needsCalibration(pruneMethod) && !(Number.isInteger(calibSamples) && calibSamples >= 1))) return null;
  try {
    return prunePlanText(await getEngine().plan(activeModelId, { method: pruneMethod, nsamples: calibSamples, seqlen }), pruneWhat(pruneMethod, calibSamples, seqlen));
  } catch {
    return null;
  }
}

/** Prune a copy of the active model with the form's settings; the copy becomes the active model. */
export async function runPrune(): Promise<void> {
  const model = activeModel('prune');
  if (!model) return;
  const { pruneMethod, prunePattern, calibLanguage, calibSamples, seqlen, layerProfile } = store();
  const patternError = settingsProblem(pruneMethod, prunePattern, layerProfile);
  if (patternError) {
    store().pushMessage({ panel: 'prune', level: 'error', code: 'BAD_ARGUMENT', text: patternError });
    return;
  }
  if (needsCalibration(pruneMethod) && !(Number.isInteger(calibSamples) && calibSamples >= 1)) {
    store().pushMessage({ panel: 'prune', level: 'error', code: 'BAD_ARGUMENT', text: 'Calibration windows must be a whole number of at least 1.' });
    return;
  }
  await runOp('prune', `Pruning ${model.name} (${pruneMethod})`, async (opts) => {
    // The plan against this adapter first: a run that cannot fit is refused before any work.
    const plan = await getEngine().plan(model.id, { method: pruneMethod, nsamples: calibSamples, seqlen });
    if (plan.problems.length) throw new PolyPruneError('GPU_LIMITS', prunePlanText(plan, pruneWhat(pruneMethod, calibSamples, seqlen)));
    // `src:<id>`: a calibration source of the Experiment panel (a file, bundled text or mix); else a bundled language.
    const src = calibLanguage.startsWith('src:') ? store().sources.find((x) => `src:${x.id}` === calibLanguage) : undefined;
    if (calibLanguage.startsWith('src:') && !src) throw new PolyPruneError('BAD_ARGUMENT', 'That calibration source was removed; choose another one.');
    const texts: CalibrationText[] = src
      ? calibrationTexts(src, store().sources)
      : [{ name: `calib/${calibLanguage}.txt`, text: await bundledText(calibTextUrl(calibLanguage), `Calibration text '${calibLanguage}'`), language: calibLanguage }];
    const calib = needsCalibration(pruneMethod) ? { texts, nsamples: calibSamples, seqlen } : null;
    return pruneAndKeep(model, pruneRequest(pruneMethod, prunePattern, calib, layerProfile), opts);
  });
}

/**
 * Prune, make the copy the active model, show its report, keep the prune record in History (entry
 * id; undefined when not kept).
 */
async function pruneAndKeep(model: ModelSummary, req: PruneRequest, opts: OpOptions): Promise<string | undefined> {
  const result = await getEngine().prune(model.id, req, opts);
  store().addModel(result.model);
  store().setPruneReport(result.model.id, result.report);
  store().pushMessage({
    panel: 'prune',
    level: 'info',
    text: `Made ${result.model.name}: ${(result.report.overall * 100).toFixed(1)} % of the prunable weights are zero. It is now the active model.`,
  });
  // e.g. the pruned matrices stayed in memory because the browser's storage refused their spill file
  for (const w of result.model.warnings ?? []) store().pushMessage({ panel: 'prune', level: 'info', text: `Warning: ${w}` });
  const texts = req.calibration && 'texts' in req.calibration ? req.calibration.texts : [];
  return keepRecord(async () =>
    pruneResultRecord(
      await runHeader(model),
      req,
      await Promise.all(texts.map((t) => textRef(t.name, t.bytes ?? t.text ?? '', t.language ?? null, texts.length > 1 ? (t.weight ?? 1) : t.weight))),
      result.report,
      LINEAR_MATRICES,
    ),
  );
}

/** Prune again as a prune record says (History's Re-run): same base model, method, pattern, calibration texts (checked by hash), windows and seed. */
export async function rerunPrune(model: ModelSummary, rec: PruneResultRecord, texts: CalibrationText[]): Promise<string | undefined> {
  const s = rec.spec;
  const calibrated = needsCalibration(s.method);
  if (calibrated && (!texts.length || s.nsamples === null || s.seqlen === null)) throw new PolyPruneError('BAD_ARGUMENT', `This ${s.method} result names no calibration windows, so it cannot be pruned again the same way.`);
  const req: PruneRequest = {
    method: s.method as PruneMethod,
    ...(s.nm ? { nm: s.nm } : { sparsity: s.sparsity }),
    ...(s.profile === 'owl' && s.owl ? { profile: 'owl' as const, owlM: s.owl.m, owlLambda: s.owl.lambda } : {}),
    ...(s.langBeta !== undefined ? { langBeta: s.langBeta } : {}),
    calibration: calibrated ? { texts, nsamples: s.nsamples!, seqlen: s.seqlen!, seed: s.seed ?? 0 } : undefined,
  };
  return runOp('prune', `Re-run: pruning ${model.name} (${s.method})`, (opts) => pruneAndKeep(model, req, opts));
}
