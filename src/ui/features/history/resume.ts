/**
 * Keeping experiments resumable: while an experiment runs, the record rebuilt from its events
 * (StudyCheckpoint) is stored after every finished cell, with the texts it needs; after a reload, a
 * closed tab or a lost device the page offers to resume it (rerun.ts `resumeRun`: only the missing
 * cells are measured) or to discard it. Imports no feature action, so the Experiment panel's runs use
 * it too.
 */
import { PolyPruneError } from '../../../common/errors';
import type { ProgressEvent } from '../../../common/progress';
import type { ModelSummary } from '../../../engine';
import { sha256Hex } from '../../../calib/text';
import { StudyCheckpoint } from '../../../experiment/checkpoint';
import type { ExperimentRecord } from '../../../experiment/records';
import { planStudy, type StudyInputs, type StudySpec } from '../../../experiment/study';
import { engineRowSizer } from '../../../experiment/size';
import { getEngine, reportError, store } from '../../store/actions/core';
import { discardPartial, findResumable, historyDb, historyInfo, newId, saveRecord, type PartialData } from './storage';

export interface StudyTracker {
  /** The record being filled (planned, or the one resumed); null when the experiment could not be planned. */
  planned: ExperimentRecord | null;
  /** Wraps the run's own event handler: every finished cell is also stored for resume. */
  onEvent(inner?: (e: ProgressEvent) => void): (e: ProgressEvent) => void;
  /** After runStudy: a complete record goes to history (returns its id), an incomplete one stays resumable. */
  finish(rec: ExperimentRecord | undefined): Promise<string | undefined>;
}

/**
 * Keep an experiment resumable while it runs: the planned record and its texts are stored now, the
 * record rebuilt from the events after every finished cell. Used by re-runs, resumes and the
 * Experiment panel's runs.
 */
export async function trackStudy(model: ModelSummary, spec: StudySpec, inputs: StudyInputs, label: string, opts: { partialId?: string; resume?: ExperimentRecord } = {}): Promise<StudyTracker> {
  const partialId = opts.partialId ?? newId();
  const db = historyDb();
  let cp: StudyCheckpoint | null = null;
  let saving: Promise<void> = Promise.resolve();
  const save = (): void => {
    if (!cp) return;
    const data: PartialData = { label, record: structuredClone(cp.record) };
    saving = saving.then(() => historyDb()?.savePartial(partialId, data)).catch((e) => reportError('history', e));
  };
  try {
    const planned = opts.resume ?? (await planStudy({ source: model.source, name: model.name, sha256: model.sha256, modelType: model.modelType, parameters: model.parameters, layers: model.numLayers }, (await getEngine().gpuInfo()).description, spec, inputs, engineRowSizer(getEngine(), model.id)));
    cp = new StudyCheckpoint(planned);
    if (db && !opts.resume) {
      const texts: Record<string, string> = {};
      const keep = async (t: string) => (texts[await sha256Hex(new TextEncoder().encode(t))] = t);
      for (const src of inputs.sources) for (const t of src.texts) if (t.text !== undefined) await keep(t.text);
      for (const c of inputs.columns) {
        if (c.text) await keep(c.text.text);
        for (const t of c.tasks ?? []) await keep(t.request.text);
      }
      await db.savePartial(`texts:${partialId}`, texts);
      save();
    }
  } catch (e) {
    // Bad input is reported by runStudy itself; storage trouble only costs resumability.
    if (e instanceof PolyPruneError && (e.code === 'STORAGE_FULL' || e.code === 'STORAGE_UNAVAILABLE')) reportError('history', e);
    cp = null;
  }
  store().setHistory({ resumeOffer: null });
  return {
    planned: cp ? structuredClone(cp.record) : null,
    onEvent: (inner) => (e) => {
      inner?.(e);
      if (cp?.apply(e)) save();
    },
    finish: async (rec) => {
      await saving;
      if (!rec) return undefined;
      if (!rec.complete) {
        await findResumable();
        historyInfo(`${rec.note ?? 'Stopped.'} Resume it above, or discard it.`);
        return undefined;
      }
      const id = await saveRecord(rec, label);
      await discardPartial(partialId);
      await findResumable(); // an older interrupted run, if any, is offered again
      const name = store().historyEntries.find((x) => x.id === id)?.name ?? label;
      if (id) historyInfo(`Finished: saved to History as '${name}'.`);
      return id;
    },
  };
}

export async function discardResume(): Promise<void> {
  const offer = store().resumeOffer;
  if (!offer) return;
  await discardPartial(offer.id);
  store().setHistory({ resumeOffer: null });
  historyInfo(`Discarded the interrupted experiment '${offer.label}'.`);
}
