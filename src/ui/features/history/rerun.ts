/**
 * Re-run, for every kind of record, and resume: the model is the loaded one with the same content
 * hash, or fetched again from its URL; bundled texts are fetched and checked by SHA-256; any other
 * file the record names must be given by the user and must have that hash. An experiment runs again
 * through runStudy (shown live in the Experiment panel), a perplexity or task record through its
 * panel's action with the record's settings, a prune record re-prunes the same base with the same
 * settings and calibration. Resuming an interrupted experiment is a re-run of its missing cells.
 * The top of the history actions: it imports the features it re-runs; none of them imports it.
 */
import { PolyPruneError } from '../../../common/errors';
import { needsCalibration, type ModelSummary } from '../../../engine';
import { sha256Hex } from '../../../calib/text';
import { matchNeededFiles, missingFiles, type NeededFile } from '../../../experiment/files';
import { parseResultRecord, type ExperimentRecord, type ResultRecord, type SourceRef } from '../../../experiment/records';
import { runStudy, type StudyInputs, type StudySpec } from '../../../experiment/study';
import { calibTextUrl, evalTextUrl, taskFileUrl, udhrFileUrl } from '../../paths';
import { recordTitle } from './names';
import { cellProgress, recordToRun } from './recordRun';
import { bundledText, getEngine, reportError, runOp, store } from '../../store/actions/core';
import { experimentEvents, nextRunId } from '../experiment/actions';
import { loadModel } from '../../features/model/actions';
import { rerunPerplexity } from '../perplexity/actions';
import { rerunPrune } from '../../features/prune/actions';
import { trackStudy } from './resume';
import { entryName, findResumable, historyInfo, loadPartial, newId, renameEntry } from './storage';
import { rerunTask } from '../tasks/actions';

/** Texts a re-run has (bundled or dropped and checked), by SHA-256. Kept out of the store (large). */
const rerunTexts = new Map<string, string>();

interface TextRef {
  ref: SourceRef;
  /** Where bundled copies may be (each checked by hash; the first that matches is used). */
  bundled: (() => Promise<string>)[];
}

/** Bundled candidates of a task file: the UDHR file of its language, bundled tasks of that format and language. */
function bundledTaskFiles(task: string, language: string | null): (() => Promise<string>)[] {
  const out: (() => Promise<string>)[] = [];
  const s = store();
  if (!language) return out;
  const udhr = task === 'udhr' && s.udhr.state === 'ready' ? s.udhr.languages.find((u) => u.language === language) : undefined;
  if (udhr) out.push(() => bundledText(udhrFileUrl(udhr.file), `UDHR task '${language}'`));
  for (const b of s.bundledTasks.filter((x) => x.task === task && x.language === language)) out.push(() => bundledText(taskFileUrl(b.file), `Bundled task ${b.name} '${language}'`));
  return out;
}

/**
 * Where a calibration text may be: text the model wrote itself is written again by the loaded model
 * with its recorded content hash (same settings and seed: the same text, checked by SHA-256 like any
 * other); otherwise the bundled text of its language.
 */
const calibCopy = (s: SourceRef) => {
  const g = s.generated;
  if (g) {
    return [
      async () => {
        const m = store().models.find((x) => x.sha256 === g.model);
        if (!m) throw new PolyPruneError('HASH_MISMATCH', `'${s.name}' was written by the model with content SHA-256 ${g.model.slice(0, 12)}…, which is not loaded.`);
        return (await getEngine().generateCalibration(m.id, { ...g })).text;
      },
    ];
  }
  return s.language ? [() => bundledText(calibTextUrl(s.language!), `Calibration text '${s.language}'`)] : [];
};

/** Every text a record names, with where the app may have it. */
function textRefs(rec: ResultRecord): TextRef[] {
  switch (rec.kind) {
    case 'perplexity': {
      const l = rec.text.language;
      return [{ ref: rec.text, bundled: l ? [() => bundledText(evalTextUrl(l), `Evaluation text '${l}'`)] : [] }];
    }
    case 'task':
      return [{ ref: rec.file, bundled: bundledTaskFiles(rec.settings.task, rec.file.language ?? rec.settings.language) }];
    case 'prune':
      return rec.calibration.map((c) => ({ ref: c, bundled: calibCopy(c) }));
    case 'experiment': {
      const out: TextRef[] = [];
      for (const row of rec.rows.slice(1)) for (const c of row.sources) out.push({ ref: c, bundled: calibCopy(c) });
      for (const c of rec.columns) {
        if (c.text) out.push({ ref: c.text, bundled: [() => bundledText(evalTextUrl(c.language), `Evaluation text '${c.language}'`)] });
        for (const t of c.tasks) out.push({ ref: t.file, bundled: bundledTaskFiles(t.task, t.file.language ?? c.language) });
      }
      return out;
    }
  }
}

/** Get ready to re-run a record (any kind): find the bundled texts it used, list the files the user must give. */
export async function prepareRerun(rec: ResultRecord, from: string): Promise<void> {
  store().clearMessages('history');
  const needed = new Map<string, NeededFile>();
  for (const { ref, bundled } of textRefs(rec)) {
    if (rerunTexts.has(ref.sha256) || needed.has(ref.sha256)) continue;
    let found = false;
    for (const get of bundled) {
      try {
        const text = await get();
        if ((await sha256Hex(new TextEncoder().encode(text))) === ref.sha256) {
          rerunTexts.set(ref.sha256, text);
          found = true;
          break;
        }
      } catch {
        /* not bundled here: the user gives it */
      }
    }
    if (!found) needed.set(ref.sha256, { name: ref.name, bytes: ref.bytes, sha256: ref.sha256 });
  }
  store().setHistory({ rerun: { record: rec, from, needed: [...needed.values()], ready: needed.size === 0 } });
}

/** Files given for a re-run: accepted only when their SHA-256 is one the record names. */
export async function addRerunFiles(files: File[]): Promise<void> {
  const r = store().rerun;
  if (!r) return;
  store().clearMessages('history');
  try {
    const given = await Promise.all(files.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
    const have = await matchNeededFiles(r.needed, given);
    for (const [h, bytes] of have) {
      try {
        rerunTexts.set(h, new TextDecoder('utf-8', { fatal: true }).decode(bytes));
      } catch {
        throw new PolyPruneError('BAD_ARGUMENT', `A file with the right hash is not UTF-8 text.`);
      }
    }
    const needed = missingFiles(r.needed, have);
    store().setHistory({ rerun: { ...r, needed, ready: needed.length === 0 } });
  } catch (e) {
    reportError('history', e);
  }
}

export function cancelRerunSetup(): void {
  store().setHistory({ rerun: null });
}

/**
 * The loaded model with the record's content hash (a pruned copy counts: a perplexity or task record
 * may be of one), or the record's URL loaded again.
 */
async function ensureModel(rec: ResultRecord): Promise<ModelSummary | undefined> {
  const loadedNow = store().models.filter((m) => m.sha256 === rec.model.sha256);
  const have = loadedNow.find((m) => !m.prunedFrom) ?? loadedNow[0];
  if (have) return have;
  if (!/^https?:\/\//i.test(rec.model.source)) {
    store().pushMessage({
      panel: 'history',
      level: 'error',
      code: 'BAD_ARGUMENT',
      text: `This result was made with '${rec.model.name}' from ${rec.model.source} (content SHA-256 ${rec.model.sha256.slice(0, 12)}…), which this page cannot fetch. Load that model (folder or files${rec.kind === 'perplexity' || rec.kind === 'task' ? ', or prune it again: re-run its prune result' : ''}), then press Re-run again.`,
    });
    return undefined;
  }
  // A pruned copy carries its base's source: the base loaded from there has another hash.
  const copyHint = rec.kind === 'perplexity' || rec.kind === 'task' ? ` If it was measured on a pruned copy, re-run that prune from History first (it makes the same copy, with this hash), then press Re-run again.` : '';
  const sameSource = store().models.find((m) => m.source === rec.model.source && !m.prunedFrom);
  if (sameSource) {
    store().pushMessage({ panel: 'history', level: 'error', code: 'HASH_MISMATCH', text: `The loaded model from ${rec.model.source} is not the one of this result (content SHA-256 ${sameSource.sha256.slice(0, 12)}…, the result needs ${rec.model.sha256.slice(0, 12)}…).${copyHint}` });
    return undefined;
  }
  const loaded = await loadModel({ kind: 'url', url: rec.model.source });
  if (!loaded) {
    store().pushMessage({ panel: 'history', level: 'error', code: 'FETCH_FAILED', text: `Could not load the model from ${rec.model.source}; see the Model panel.` });
    return undefined;
  }
  if (loaded.sha256 !== rec.model.sha256) {
    store().pushMessage({ panel: 'history', level: 'error', code: 'HASH_MISMATCH', text: `The model at ${rec.model.source} is not the one of this result (content SHA-256 ${loaded.sha256.slice(0, 12)}…, the result needs ${rec.model.sha256.slice(0, 12)}…).${copyHint}` });
    return undefined;
  }
  return loaded;
}

/** runStudy's spec and inputs for a record, with the texts by hash. */
export function studyFromRecord(rec: ExperimentRecord, texts: ReadonlyMap<string, string>): { spec: StudySpec; inputs: StudyInputs } {
  const get = (r: SourceRef): string => {
    const t = texts.get(r.sha256);
    if (t === undefined) throw new PolyPruneError('HASH_MISMATCH', `The text '${r.name}' (SHA-256 ${r.sha256.slice(0, 12)}…) is missing.`);
    return t;
  };
  const s = rec.spec;
  const spec: StudySpec = {
    method: s.method as StudySpec['method'],
    ...(s.nm ? { nm: s.nm } : { sparsity: s.sparsity }),
    nsamples: s.nsamples,
    seqlen: s.seqlen,
    seeds: s.seeds,
    evalSeqlen: s.evalSeqlen,
    ...(s.evalMaxWindows !== null ? { evalMaxWindows: s.evalMaxWindows } : {}),
    ...(s.taskLimit !== null ? { taskLimit: s.taskLimit } : {}),
    ...(s.profile === 'owl' && s.owl ? { profile: 'owl' as const, owlM: s.owl.m, owlLambda: s.owl.lambda } : {}),
    ...(s.langBeta !== undefined ? { langBeta: s.langBeta } : {}),
    ...(s.instant ? { instant: true } : {}),
    ...(s.confirm ? { confirm: true } : {}),
  };
  const inputs: StudyInputs = {
    sources:
      !needsCalibration(s.method)
        ? []
        : // an instant grid's '(exact)' rows are made by runStudy from the row before them
          rec.rows.slice(1).filter((row) => row.mix?.mode !== 'confirm').map((row) => ({
            label: row.label,
            texts: row.sources.map((x) => ({ name: x.name, text: get(x), ...(x.language ? { language: x.language } : {}), ...(x.weight !== undefined ? { weight: x.weight } : {}), ...(x.generated ? { generated: x.generated } : {}) })),
          })),
    columns: rec.columns.map((c) => ({
      language: c.language,
      ...(c.text ? { text: { name: c.text.name, text: get(c.text) } } : {}),
      tasks: c.tasks.map((t) => ({ label: t.label, request: { task: t.task, text: get(t.file), ...(t.file.language ? { language: t.file.language } : {}) }, fileName: t.file.name })),
    })),
  };
  return { spec, inputs };
}

/** Re-run the prepared record (all its files present), through the same action as a first run of its kind. */
export async function startRerun(): Promise<void> {
  const r = store().rerun;
  if (!r) return;
  if (r.needed.length) {
    store().pushMessage({ panel: 'history', level: 'error', code: 'BAD_ARGUMENT', text: `Give the ${r.needed.length} missing file${r.needed.length === 1 ? '' : 's'} first.` });
    return;
  }
  const rec = r.record;
  const model = await ensureModel(rec);
  if (!model) return;
  const text = (ref: SourceRef): string => {
    const t = rerunTexts.get(ref.sha256);
    if (t === undefined) throw new PolyPruneError('HASH_MISMATCH', `The text '${ref.name}' (SHA-256 ${ref.sha256.slice(0, 12)}…) is missing.`);
    return t;
  };
  store().setHistory({ rerun: null });
  const label = `Re-run of ${recordTitle(rec)}`;
  let id: string | undefined;
  try {
    switch (rec.kind) {
      case 'experiment': {
        const { spec, inputs } = studyFromRecord(rec, rerunTexts);
        await runTracked(model, spec, inputs, label, newId(), undefined);
        return;
      }
      case 'perplexity':
        id = await rerunPerplexity(model, rec, text(rec.text));
        break;
      case 'task':
        id = await rerunTask(model, rec, text(rec.file));
        break;
      case 'prune':
        id = await rerunPrune(model, rec, rec.calibration.map((c) => ({ name: c.name, text: text(c), ...(c.language ? { language: c.language } : {}), ...(c.weight !== undefined ? { weight: c.weight } : {}), ...(c.generated ? { generated: c.generated } : {}) })));
        break;
    }
  } catch (e) {
    reportError('history', e);
    return;
  }
  if (id) {
    const rec2 = store().historyEntries.find((e) => e.id === id)?.record;
    const name = rec2 ? entryName(rec2, label, id) : label;
    await renameEntry(id, name);
    store().setHistory({ historyShown: [id] });
    historyInfo(`Finished: saved to History as '${name}'.`);
  }
}

/**
 * Run the study with a checkpoint stored after every finished cell (and the texts it needs, stored
 * once beside it), so a reload can resume it. It is shown live in the Experiment panel (from the
 * cells measured before, when resuming); a finished run goes to history and is shown there too.
 */
async function runTracked(model: ModelSummary, spec: StudySpec, inputs: StudyInputs, label: string, partialId: string, resume: ExperimentRecord | undefined): Promise<void> {
  const engine = getEngine();
  const track = await trackStudy(model, spec, inputs, label, { partialId, resume });
  const runId = nextRunId();
  if (track.planned) store().setExpRun({ ...recordToRun(track.planned, model.name), id: runId, status: 'running', record: null, startedAt: Date.now() });
  const t0 = performance.now();
  let aborted = false;
  if (!store().running) historyInfo(`'${label}' runs in the Experiment panel, where its heatmaps fill in.`);
  const rec = await runOp('experiment', label, async (opts, signal) => {
    if (resume) {
      const m = cellProgress(recordToRun(resume));
      store().pushMessage({ panel: 'experiment', level: 'info', text: `Resuming '${label}': ${m.done} of ${m.total} cells were measured before the interruption; measuring the rest.` });
    }
    const show = experimentEvents(runId, opts);
    const out = await runStudy(engine, model.id, spec, inputs, { signal, resume, onEvent: track.onEvent(show) });
    aborted = signal.aborted;
    return out;
  });
  store().updateExpRun(runId, (r) => ({ ...r, record: rec ?? null, status: rec?.complete ? 'done' : aborted ? 'cancelled' : 'failed', current: null, elapsedMs: performance.now() - t0 }));
  if (rec && !rec.complete) store().pushMessage({ panel: 'experiment', level: aborted ? 'info' : 'error', text: rec.note ?? 'The experiment stopped before the end.' });
  const id = await track.finish(rec);
  if (id) store().setHistory({ historyShown: [id] });
}

/** Resume the interrupted experiment offered at the top: only its missing cells are measured. */
export async function resumeRun(): Promise<void> {
  const offer = store().resumeOffer;
  if (!offer) return;
  store().clearMessages('history');
  const stored = await loadPartial(offer.id);
  if (!stored) {
    store().pushMessage({ panel: 'history', level: 'error', code: 'STORAGE_UNAVAILABLE', text: 'The interrupted experiment is no longer stored (discarded in another tab?).' });
    await findResumable();
    return;
  }
  let record: ExperimentRecord;
  try {
    record = parseResultRecord(stored.data.record) as ExperimentRecord;
  } catch (e) {
    reportError('history', e);
    return;
  }
  const model = await ensureModel(record);
  if (!model) return;
  const { spec, inputs } = studyFromRecord(record, new Map(Object.entries(stored.texts)));
  await runTracked(model, spec, inputs, stored.data.label, offer.id, record);
}

