/**
 * History, share links, re-run and resume.
 *
 * - History: every finished result record is stored in IndexedDB (experiment/history.ts); the panel
 *   lists, opens, compares, renames, deletes, exports and imports them.
 * - Share links: `#r=...` in the page's URL is decoded on open (and on hashchange) and shown at once;
 *   "Copy share link" makes one from any record.
 * - Every run is kept: experiments (trackStudy), and single perplexity, task and prune runs of the
 *   page (keepRecord, called by their actions as each finishes).
 * - Re-run, for every kind of record: the model is the loaded one with the same content hash, or
 *   fetched again from its URL; bundled texts are fetched and checked by SHA-256; any other file the
 *   record names must be given by the user and must have that hash. An experiment runs again through
 *   runStudy (shown live in the Experiment panel), a perplexity or task record through its panel's
 *   action with the record's settings, a prune record re-prunes the same base with the same settings
 *   and calibration.
 * - Resume: while an experiment runs, the record rebuilt from its events (StudyCheckpoint) is stored
 *   after every finished cell, with the texts it needs; after a reload, a closed tab or a lost device
 *   the page offers to resume it (runStudy's `resume`: only missing cells are measured; shown in the
 *   Experiment panel, filling in as an uninterrupted run) or to discard it.
 */
import { PolyPruneError } from '../../../common/errors';
import type { ProgressEvent } from '../../../common/progress';
import { needsCalibration, type ModelSummary } from '../../../engine';
import { sha256Hex } from '../../../calib/text';
import { StudyCheckpoint } from '../../../experiment/checkpoint';
import { matchNeededFiles, missingFiles, type NeededFile } from '../../../experiment/files';
import { newId, requestPersistence, RunHistory, storageInfo } from '../../../experiment/history';
import { parseResultRecord, recordHeader, modelRefOf, type ExperimentRecord, type ResultRecord, type SourceRef } from '../../../experiment/records';
import { decodeRecordLink, recordShareLink, sharePayload } from '../../../experiment/share';
import { planStudy, runStudy, type StudyInputs, type StudySpec } from '../../../experiment/study';
import { saveBlob } from '../../download';
import { calibTextUrl, evalTextUrl, taskFileUrl, udhrFileUrl } from '../../paths';
import { recordToRun } from '../recordRun';
import { bundledText, errorCode, errorText, getEngine, reportError, runOp, store } from './core';
import { experimentEvents, nextRunId } from './experiment';
import { loadModel } from './models';
import { rerunPerplexity } from './perplexity';
import { rerunPrune } from './prune';
import { rerunTask } from './tasks';

let db: RunHistory<ResultRecord> | null = null;
let persistAsked = false;
/** Texts a re-run has (bundled or dropped and checked), by SHA-256. Kept out of the store (large). */
const rerunTexts = new Map<string, string>();

const info = (text: string): void => store().pushMessage({ panel: 'history', level: 'info', text });

// ------------------------------------------------------------------ start-up

/** Open a share link in the URL, open the history database, look for an experiment to resume. */
export async function initHistory(): Promise<void> {
  openSharedFromLocation();
  window.addEventListener('hashchange', openSharedFromLocation);
  try {
    db = await RunHistory.open(parseResultRecord);
    store().setHistory({ historyStatus: { state: 'ready' } });
    await refreshHistory();
    await findResumable();
  } catch (e) {
    store().setHistory({ historyStatus: { state: 'unavailable', message: errorText(e) } });
  }
}

/** `#r=...` in the address: show that result (no recomputing); a bad link says why, the page goes on. */
export function openSharedFromLocation(): void {
  if (sharePayload(location.hash) === null) return;
  store().clearMessages('app');
  try {
    const shared = decodeRecordLink(location.hash);
    store().setHistory({ shared });
  } catch (e) {
    store().setHistory({ shared: null });
    reportError('app', e);
  }
}

export function closeShared(): void {
  store().setHistory({ shared: null });
  history.replaceState(null, '', location.pathname + location.search);
}

export async function refreshHistory(): Promise<void> {
  if (!db) return;
  const { entries, unreadable } = await db.list();
  store().setHistory({ historyEntries: entries, historyUnreadable: unreadable, historyStorage: await storageInfo() });
}

// ------------------------------------------------------------------ history

export function recordTitle(rec: ResultRecord): string {
  switch (rec.kind) {
    case 'experiment': {
      const s = rec.spec;
      const pattern = s.nm ? `${s.nm.n}:${s.nm.m}` : `${Math.round(s.sparsity * 1000) / 10} %`;
      return `${s.method} ${pattern}: ${rec.rows.length - 1} × ${rec.columns.length} on ${rec.model.name}`;
    }
    case 'prune':
      return `${rec.spec.method} ${rec.spec.nm ? `${rec.spec.nm.n}:${rec.spec.nm.m}` : `${Math.round(rec.spec.sparsity * 1000) / 10} %`} of ${rec.model.name}`;
    case 'perplexity':
      return `perplexity ${rec.result.language} on ${rec.model.name}`;
    case 'task':
      return `${rec.settings.task} ${rec.settings.language} on ${rec.model.name}`;
  }
}

/** Store a record in history (asks once for persistent storage). Undefined when it could not be stored. */
export async function saveRecord(rec: ResultRecord, name = recordTitle(rec)): Promise<string | undefined> {
  if (!db) {
    store().pushMessage({ panel: 'history', level: 'error', code: 'STORAGE_UNAVAILABLE', text: 'History is not available in this browser, so this result was not kept.' });
    return undefined;
  }
  store().clearMessages('history');
  try {
    const entry = await db.add(rec, name);
    if (!persistAsked) {
      persistAsked = true;
      await requestPersistence();
    }
    await refreshHistory();
    return entry.id;
  } catch (e) {
    reportError('history', e);
    await refreshHistory().catch(() => undefined);
    return undefined;
  }
}

let adapterDescription: string | null = null;

/** The header of a record of a run on `model` (adapter asked once per page). */
export async function runHeader(model: ModelSummary): Promise<ReturnType<typeof recordHeader>> {
  adapterDescription ??= (await getEngine().gpuInfo()).description;
  return recordHeader(modelRefOf(model), adapterDescription);
}

/** A text input as a record names it: name, language, UTF-8 size and SHA-256. */
export async function textRef(name: string, text: string | Uint8Array, language: string | null, weight?: number): Promise<SourceRef> {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  return { name, language, bytes: bytes.byteLength, sha256: await sha256Hex(bytes), ...(weight !== undefined ? { weight } : {}) };
}

/**
 * Keep a finished single run (perplexity, task, prune) in History. Never fails the run: a record that
 * cannot be built or stored is reported in the History panel. Returns the entry id.
 */
export async function keepRecord(build: () => Promise<ResultRecord>): Promise<string | undefined> {
  if (!db) return undefined; // History unavailable: the panel says so once (historyStatus).
  let rec: ResultRecord;
  try {
    rec = await build();
  } catch (e) {
    store().pushMessage({ panel: 'history', level: 'error', code: errorCode(e), text: `This run was not kept in History: ${errorText(e)}` });
    return undefined;
  }
  return saveRecord(rec);
}

export async function renameEntry(id: string, name: string): Promise<void> {
  try {
    await db?.rename(id, name);
    await refreshHistory();
  } catch (e) {
    reportError('history', e);
  }
}

export async function deleteEntry(id: string): Promise<void> {
  try {
    await db?.remove(id);
    store().setHistory({ historyShown: store().historyShown.filter((x) => x !== id) });
    await refreshHistory();
  } catch (e) {
    reportError('history', e);
  }
}

/** Show an entry below the list; a second one is shown beside it (compare); a third replaces the older. */
export function toggleShown(id: string): void {
  const shown = store().historyShown;
  store().setHistory({ historyShown: shown.includes(id) ? shown.filter((x) => x !== id) : [...shown, id].slice(-2) });
}

export async function exportHistory(): Promise<void> {
  if (!db) return;
  try {
    const text = await db.exportAll();
    const name = `polyprune-history-${new Date().toISOString().slice(0, 10)}.json`;
    saveBlob(new Blob([text], { type: 'application/json' }), name);
    info(`Saved ${name} (${store().historyEntries.length} runs).`);
  } catch (e) {
    reportError('history', e);
  }
}

export async function importHistory(file: File): Promise<void> {
  if (!db) return;
  store().clearMessages('history');
  try {
    const { added, skipped } = await db.importAll(await file.text());
    await refreshHistory();
    info(`Imported ${added} run${added === 1 ? '' : 's'} from ${file.name}${skipped ? ` (${skipped} already in history)` : ''}.`);
  } catch (e) {
    reportError('history', e);
  }
}

/** Make the share link of a record, copy it to the clipboard and show it. */
export async function copyShareLink(key: string, rec: ResultRecord): Promise<void> {
  store().clearMessages('history');
  let made: ReturnType<typeof recordShareLink>;
  try {
    made = recordShareLink(rec, location.href.replace(/#.*$/, ''));
  } catch (e) {
    reportError('history', e);
    return;
  }
  let copied = false;
  try {
    await navigator.clipboard.writeText(made.link);
    copied = true;
  } catch {
    /* no clipboard permission: the link is shown to copy by hand */
  }
  store().setHistory({ lastLink: { key, link: made.link, omitted: made.omitted, copied } });
}

// ------------------------------------------------------------------ re-run

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

const calibCopy = (s: SourceRef) => (s.language ? [() => bundledText(calibTextUrl(s.language!), `Calibration text '${s.language}'`)] : []);

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
            texts: row.sources.map((x) => ({ name: x.name, text: get(x), ...(x.language ? { language: x.language } : {}), ...(x.weight !== undefined ? { weight: x.weight } : {}) })),
          })),
    columns: rec.columns.map((c) => ({
      language: c.language,
      ...(c.text ? { text: { name: c.text.name, text: get(c.text) } } : {}),
      tasks: c.tasks.map((t) => ({ label: t.label, request: { task: t.task, text: get(t.file), ...(t.file.language ? { language: t.file.language } : {}) }, fileName: t.file.name })),
    })),
  };
  return { spec, inputs };
}

interface PartialData {
  label: string;
  record: ExperimentRecord;
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
        id = await rerunPrune(model, rec, rec.calibration.map((c) => ({ name: c.name, text: text(c), ...(c.language ? { language: c.language } : {}), ...(c.weight !== undefined ? { weight: c.weight } : {}) })));
        break;
    }
  } catch (e) {
    reportError('history', e);
    return;
  }
  if (id) {
    await renameEntry(id, label);
    store().setHistory({ historyShown: [id] });
    info(`Finished: saved to History as '${label}'.`);
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
  if (!store().running) info(`'${label}' runs in the Experiment panel, where its heatmaps fill in.`);
  const rec = await runOp('experiment', label, async (opts, signal) => {
    if (resume) {
      const m = new StudyCheckpoint(resume).measured();
      store().pushMessage({ panel: 'experiment', level: 'info', text: `Resuming '${label}': ${m.done} of ${m.total} values were measured before the interruption; measuring the rest.` });
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
  let cp: StudyCheckpoint | null = null;
  let saving: Promise<void> = Promise.resolve();
  const save = (): void => {
    if (!cp) return;
    const data: PartialData = { label, record: structuredClone(cp.record) };
    saving = saving.then(() => db?.savePartial(partialId, data)).catch((e) => reportError('history', e));
  };
  try {
    const planned = opts.resume ?? (await planStudy({ source: model.source, name: model.name, sha256: model.sha256, modelType: model.modelType, parameters: model.parameters, layers: model.numLayers }, (await getEngine().gpuInfo()).description, spec, inputs));
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
        info(`${rec.note ?? 'Stopped.'} Resume it above, or discard it.`);
        return undefined;
      }
      const id = await saveRecord(rec, label);
      await discardPartial(partialId);
      await findResumable(); // an older interrupted run, if any, is offered again
      if (id) info(`Finished: saved to History as '${label}'.`);
      return id;
    },
  };
}

// ------------------------------------------------------------------ resume

async function findResumable(): Promise<void> {
  if (!db) return;
  const all = await db.listPartial<PartialData | Record<string, string>>();
  const p = all.find((x) => !x.id.startsWith('texts:') && (x.data as PartialData).record);
  if (!p) {
    store().setHistory({ resumeOffer: null });
    return;
  }
  const d = p.data as PartialData;
  const cp = new StudyCheckpoint(d.record);
  const m = cp.measured();
  store().setHistory({ resumeOffer: { id: p.id, label: d.label, done: m.done, total: m.total, updatedAt: p.updatedAt } });
}

export async function resumeRun(): Promise<void> {
  const offer = store().resumeOffer;
  if (!offer || !db) return;
  store().clearMessages('history');
  const all = await db.listPartial<PartialData | Record<string, string>>();
  const p = all.find((x) => x.id === offer.id)?.data as PartialData | undefined;
  const texts = all.find((x) => x.id === `texts:${offer.id}`)?.data as Record<string, string> | undefined;
  if (!p || !texts) {
    store().pushMessage({ panel: 'history', level: 'error', code: 'STORAGE_UNAVAILABLE', text: 'The interrupted experiment is no longer stored (discarded in another tab?).' });
    await findResumable();
    return;
  }
  let record: ExperimentRecord;
  try {
    record = parseResultRecord(p.record) as ExperimentRecord;
  } catch (e) {
    reportError('history', e);
    return;
  }
  const model = await ensureModel(record);
  if (!model) return;
  const { spec, inputs } = studyFromRecord(record, new Map(Object.entries(texts)));
  await runTracked(model, spec, inputs, p.label, offer.id, record);
}

async function discardPartial(id: string): Promise<void> {
  await db?.removePartial(id).catch(() => undefined);
  await db?.removePartial(`texts:${id}`).catch(() => undefined);
}

export async function discardResume(): Promise<void> {
  const offer = store().resumeOffer;
  if (!offer) return;
  await discardPartial(offer.id);
  store().setHistory({ resumeOffer: null });
  info(`Discarded the interrupted experiment '${offer.label}'.`);
}
