/**
 * The experiment: the dense model plus one pruned model per calibration source (and seed), each
 * measured in every evaluation language (perplexity, bits per byte, task accuracy). Every cell goes
 * into the store the moment it is measured, so the heatmaps fill in live; a cancel or an error keeps
 * the finished cells.
 */
import { priorStepMs, stopRateMeasurement } from './estimate';
import { needsCalibration, resolvePattern } from '../../../engine';
import { patternFields, settingsProblem } from '../prune/settings';
import type { ProgressEvent } from '../../../common/progress';
import type { CalibrationText, HubTextRef, OpOptions } from '../../../engine';
import { meanSpread } from '../../../experiment/records';
import type { StudyColumn, StudySource, StudySpec, StudyVariant } from '../../../experiment/study';
import { parseVariantList, resolveVariants } from '../../../experiment/variants';
import { engineRowSizer, type RowSize } from '../../../experiment/size';
import { evalTextUrl, hubEndpoint, taskFileUrl, udhrFileUrl } from '../../paths';
import { lmEvalTasksFor, resolveTaskName } from '../../../eval/lmEvalNames';
import { hubCorpusText, hubTaskRows, hubTextRef } from '../../../engine';
import { hubTextBytes } from '../sources/actions';
import { hubToken } from '../../features/model/hubToken';
import type { CalibSource, ExpCell, ExperimentRun, ExperimentSettings, ExpRow, ExpTask, LayerTrace, TaskScore } from './experimentSlice';
import { activeModel, bundledText, getEngine, runOp, store, wholeAtLeast } from '../../store/actions/core';
import { trackStudy } from '../history/resume';

/** A message when the pattern is not a valid sparsity or N:M, else null. */
export function patternProblem(p: ExperimentSettings['pattern']): string | null {
  // The one rule for sparsity / N:M (src/prune/method.ts through the engine API).
  try {
    resolvePattern(patternFields(p));
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Calibration texts of a source (a mix: its parts with their weights). */
export function calibrationTexts(src: CalibSource, all: CalibSource[]): (CalibrationText & { hub?: HubTextRef })[] {
  if (src.origin !== 'mix') return [{ name: src.name, text: src.text, ...(src.language ? { language: src.language } : {}), ...(src.hub ? { hub: src.hub } : {}), ...(src.generated ? { generated: src.generated } : {}) }];
  return (src.parts ?? []).map((p) => {
    const part = all.find((x) => x.id === p.id)!;
    return { name: part.name, text: part.text, weight: p.weight, ...(part.language ? { language: part.language } : {}), ...(part.hub ? { hub: part.hub } : {}), ...(part.generated ? { generated: part.generated } : {}) };
  });
}

const finite = (xs: readonly (number | null)[]): number[] => xs.filter((x): x is number => x !== null && Number.isFinite(x));

/** Mean of the finite numbers (null when there are none); records.ts `meanSpread`. */
export function mean(xs: readonly (number | null)[]): number | null {
  return meanSpread(finite(xs))?.mean ?? null;
}

/** Sample standard deviation of the finite numbers (null for fewer than two); records.ts `meanSpread`. */
export function spread(xs: readonly (number | null)[]): number | null {
  return meanSpread(finite(xs))?.sd ?? null;
}

const emptyCell = (): ExpCell => ({ ppl: [], bpb: [], tasks: {} });

function withCell(run: ExperimentRun, rowId: string, language: string, f: (c: ExpCell) => ExpCell): ExperimentRun {
  const row = run.cells[rowId] ?? {};
  return { ...run, cells: { ...run.cells, [rowId]: { ...row, [language]: f(row[language] ?? emptyCell()) } } };
}

let runCounter = 0;

/** The held-out texts of the live run's columns (kept out of the store: large), for the published-model comparison. */
let runEvalTexts: { runId: number; texts: Map<string, { name: string; text: string }> } | null = null;

/** The held-out text of a language in the live run `runId`, if it had one. */
export function liveRunEvalText(runId: number, language: string): { name: string; text: string } | undefined {
  return runEvalTexts?.runId === runId ? runEvalTexts.texts.get(language) : undefined;
}

/**
 * The Experiment panel's live view of a running study: each event of runStudy goes into the run
 * with this id (cells, layers finishing, sparsity, mask overlaps), so its heatmaps and table fill in
 * as cells finish. Used by the panel's own runs and by re-runs and resumes (history.ts). Rows and
 * languages are read from the run (row r of the study = run.rows[r], column k = evalLanguages[k]).
 */
export function experimentEvents(id: number, opts: OpOptions & { opId: string }): (e: ProgressEvent) => void {
  const update = (f: (r: ExperimentRun) => ExperimentRun): void => store().updateExpRun(id, f);
  const current = (): ExperimentRun | undefined => (store().expRun?.id === id ? store().expRun! : undefined);
  const rowId = (r: number | undefined): string | undefined => (r === undefined ? undefined : current()?.rows[r]?.id);
  const langOf = (k: number | undefined): string | undefined => (k === undefined ? undefined : current()?.settings.evalLanguages[k]);
  const pruneStart = new Map<string, number>();
  return (e: ProgressEvent): void => {
    switch (e.kind) {
      case 'stepStart': {
        // The step that runs now names the label (not the one that just finished).
        store().setOpOverall(opts.opId, { done: e.done, total: e.total, message: e.message, etaMs: store().running?.overall?.etaMs ?? null, etaAt: store().running?.overall?.etaAt });
        store().setOpProgress(opts.opId, null);
        const rid = rowId(e.row);
        // A step on a pruned row without a column is its prune: the layer chart times layers from here.
        if (rid && rid !== 'dense' && e.col === undefined) pruneStart.set(`${rid}|${e.seed ?? 0}`, performance.now());
        update((r) => ({ ...r, current: rid ? { rowId: rid, language: langOf(e.col), seed: e.seed } : r.current }));
        return;
      }
      case 'step': {
        // A step finished: the count and the run's own ETA (each kind of step at its own pace).
        store().setOpOverall(opts.opId, { done: e.done, total: e.total, message: e.message, etaMs: e.etaMs, etaAt: Date.now() });
        store().setOpProgress(opts.opId, null);
        return;
      }
      case 'cell': {
        const rid = rowId(e.row);
        const lang = langOf(e.col);
        if (!rid || !lang) return;
        const keys = (current()?.tasks[lang] ?? []).map((t) => t.key);
        update((r) =>
          withCell(r, rid, lang, (c) => {
            const put = <T>(xs: T[], v: T): T[] => {
              const out = [...xs];
              out[e.seed] = v;
              return out;
            };
            const ts = { ...c.tasks };
            keys.forEach((k, j) => {
              const acc = e.values.acc[j];
              if (acc !== null && acc !== undefined) ts[k] = put(ts[k] ?? [], { acc, stderr: e.values.se[j] ?? null, n: 0 });
            });
            return { ppl: e.values.ppl === null ? c.ppl : put(c.ppl, e.values.ppl), bpb: e.values.ppl === null ? c.bpb : put(c.bpb, e.values.bpb), tasks: ts };
          }),
        );
        return;
      }
      case 'layerDone': {
        const rid = rowId(e.row);
        if (!rid) return;
        const seed = e.seed ?? 0;
        const key = `${rid}|${seed}`;
        if (!pruneStart.has(key)) pruneStart.set(key, performance.now());
        const at = performance.now() - pruneStart.get(key)!;
        update((r) => {
          const i = r.layerTraces.findIndex((t) => t.rowId === rid && t.seed === seed);
          const tr: LayerTrace = i >= 0 ? r.layerTraces[i] : { rowId: rid, seed, layers: e.layers, finishedAt: [], matrices: e.matrices, recon: [] };
          const finishedAt = [...tr.finishedAt];
          finishedAt[e.layer] = at;
          const recon = [...tr.recon];
          recon[e.layer] = e.recon;
          const layerSparsity = [...(tr.layerSparsity ?? [])];
          if (e.layerSparsity !== undefined) layerSparsity[e.layer] = e.layerSparsity;
          const next = { ...tr, layers: e.layers, matrices: e.matrices, finishedAt, recon, layerSparsity };
          return { ...r, layerTraces: i >= 0 ? r.layerTraces.map((t, k) => (k === i ? next : t)) : [...r.layerTraces, next] };
        });
        opts.onProgress?.(e);
        return;
      }
      case 'rowDone': {
        const rid = rowId(e.row);
        if (!rid) return;
        update((r) => ({ ...r, rows: r.rows.map((x) => (x.id === rid ? { ...x, sparsity: [...x.sparsity, e.sparsity], ...(e.updateMs !== undefined ? { updateMs: [...(x.updateMs ?? []), e.updateMs] } : {}), ...(e.layerIou ? { layerIou: [...(x.layerIou ?? []), e.layerIou] } : {}), ...(e.layerCodes ? { layerCodes: [...(x.layerCodes ?? []), e.layerCodes] } : {}) } : x)) }));
        return;
      }
      case 'maskOverlap': {
        const a = rowId(e.a);
        const b = rowId(e.b);
        if (!a || !b) return;
        update((r) => ({ ...r, masks: [...r.masks, { a, b, seed: e.seed, matrices: e.matrices, iou: e.iou }] }));
        return;
      }
      default:
        opts.onProgress?.(e);
    }
  };
}

/**
 * The held-out text of a column: the bundled evaluation text, or (`hubSpec` with `{lang}`, e.g.
 * `mc4:{lang}:validation`) documents of that Hub corpus, as many bytes as the evaluation windows need,
 * named by spec and commit and carrying its provenance into the record.
 */
async function heldOutText(hubSpec: string, l: string, settings: ExperimentSettings, signal: AbortSignal): Promise<NonNullable<StudyColumn['text']>> {
  if (!hubSpec) return { name: `eval/${l}.txt`, text: await bundledText(evalTextUrl(l), `Evaluation text '${l}'`) };
  const t = await hubCorpusText(hubSpec.replaceAll('{lang}', l), hubTextBytes(settings.evalWindows, settings.seqlen), {
    endpoint: hubEndpoint(),
    token: hubToken() || undefined,
    signal,
    onCacheFull: (m) => store().pushMessage({ panel: 'experiment', level: 'info', text: m }),
  });
  const p = t.provenance;
  store().pushMessage({
    panel: 'experiment',
    level: 'info',
    text: `Held-out text ${p.spec}: ${p.documents} documents of ${p.dataset}@${p.sha.slice(0, 12)} (${p.files.map((f) => f.file).join(', ')}), ${p.textBytes.toLocaleString('en-US')} bytes, ${t.cached ? 'from the browser cache' : `${p.bytesRead.toLocaleString('en-US')} bytes downloaded`}.`,
  });
  return { name: `hub:${p.spec}@${p.sha.slice(0, 12)}`, text: t.text, hub: hubTextRef(p) };
}

/** A new id for a run shown in the Experiment panel (updates to an older run are then ignored). */
export function nextRunId(): number {
  return ++runCounter;
}

/** Run the experiment panel's experiment on the active model. */
export async function runExperiment(): Promise<void> {
  const model = activeModel('experiment');
  if (!model) return;
  const s = store();
  const bad = (text: string, code = 'BAD_ARGUMENT'): void => s.pushMessage({ panel: 'experiment', level: 'error', code, text });
  s.clearMessages('experiment');
  if (s.languages.state !== 'ready') return bad('This build has no bundled held-out texts, so there is nothing to evaluate on.', 'FILE_NOT_FOUND');
  const heldOut = s.languages.languages;
  const evalLangs = heldOut.filter((l) => s.expEvalLanguages.includes(l));
  if (!evalLangs.length) return bad('Choose at least one evaluation language.');
  const problem = settingsProblem(s.expMethod, s.expPattern, s.layerProfile);
  if (problem) return bad(problem);
  const owl = s.layerProfile.profile === 'owl' ? { m: s.layerProfile.owlM, lambda: s.layerProfile.owlLambda } : undefined;
  // "Methods to compare": several methods side by side (each a row per source), instead of the one method
  let variants: StudyVariant[] | undefined;
  let variantLabels: string[] = [];
  // the size column (rows of several methods): each variant's export bytes, from the export's own accounting
  let variantSizes: RowSize[] = [];
  let denseSize: RowSize | undefined;
  if (s.expVariants.trim()) {
    try {
      variants = parseVariantList(s.expVariants);
      const resolved = resolveVariants({ method: s.expMethod, variants, ...(owl ? { profile: 'owl', owlM: owl.m, owlLambda: owl.lambda } : {}), instant: s.expInstant });
      variantLabels = resolved.labels;
      stopRateMeasurement(); // the sizes come from the engine: do not wait behind the page's speed measurement
      const sizeOf = engineRowSizer(getEngine(), model.id);
      variantSizes = await Promise.all(resolved.variants.map((v) => sizeOf(v.quantize)));
      denseSize = await sizeOf(null);
    } catch (e) {
      return bad(`Methods to compare: ${(e as Error).message}`);
    }
  }
  if (!wholeAtLeast('experiment', s.expSeqlen, 2, 'Window length')) return;
  if (s.expSeqlen > model.maxPositionEmbeddings) return bad(`Window length ${s.expSeqlen} is longer than the model's context (${model.maxPositionEmbeddings} tokens).`);
  if (!wholeAtLeast('experiment', s.expEvalWindows, 1, 'Evaluation windows')) return;
  if (!wholeAtLeast('experiment', s.expSeedCount, 1, 'Seeds')) return;
  const magnitude = variants ? !variants.some((v) => needsCalibration(v.method)) : !needsCalibration(s.expMethod);
  if (!magnitude && !wholeAtLeast('experiment', s.expNsamples, 1, 'Windows per calibration source')) return;
  const limit = Number.isNaN(s.expTaskLimit) ? null : s.expTaskLimit;
  if (limit !== null && !wholeAtLeast('experiment', limit, 1, 'Task items per cell')) return;

  const chosen = s.sources.filter((x) => x.selected);
  if (!magnitude && !chosen.length) return bad('Add or select at least one calibration source: drop text files on the page, pick "Calibration files", or add a bundled text.');
  if (!magnitude) {
    const unknown = chosen.filter((x) => !x.language);
    if (unknown.length) return bad(`The language of ${unknown.map((x) => `'${x.name}'`).join(', ')} could not be identified: choose it in the list of calibration sources.`);
    for (const src of chosen) {
      for (const t of calibrationTexts(src, s.sources)) {
        const part = src.origin === 'mix' ? s.sources.find((x) => x.name === t.name) : src;
        const share = src.origin === 'mix' ? (t.weight ?? 1) / (src.parts ?? []).reduce((a, p) => a + p.weight, 0) : 1;
        // what wanda's sampler needs: one window start (seqlen + 1 tokens); more windows than the
        // text holds end to end overlap (the engine warns), as in the reference
        const windows = Math.ceil(s.expNsamples * share);
        const need = s.expSeqlen + 1;
        if (windows > 0 && part?.tokens !== null && part?.tokens !== undefined && part.tokens < need) {
          return bad(
            `'${part.name}' is too short: a calibration window of ${s.expSeqlen} tokens needs at least ${need.toLocaleString('en-US')} tokens, but it has ${part.tokens.toLocaleString('en-US')}. Add more text, or lower the window length.`,
            'CALIBRATION_INVALID',
          );
        }
      }
    }
  }
  for (const f of s.expTaskFiles) {
    if (!heldOut.includes(f.language)) {
      return bad(`Task file '${f.name}' is tagged '${f.language || '(none)'}', a language without held-out text in this build, so it has no column. Tag it with one of: ${heldOut.join(', ')}.`, 'TASK_INVALID');
    }
  }

  // Tasks per evaluation language: the bundled UDHR task where it exists, and the task files tagged with it.
  const udhr = s.udhr.state === 'ready' ? s.udhr.languages : [];
  const tasks: Record<string, ExpTask[]> = {};
  const taskText = new Map<string, () => Promise<string>>();
  for (const l of evalLangs) {
    tasks[l] = [];
    const u = udhr.find((x) => x.language === l);
    if (s.expUdhr && u) {
      tasks[l].push({ key: 'udhr', label: 'UDHR', task: 'udhr', file: u.file });
      taskText.set(`udhr:${l}`, () => bundledText(udhrFileUrl(u.file), `UDHR task '${l}'`));
    }
    if (s.expBundled) {
      for (const b of s.bundledTasks.filter((x) => x.language === l)) {
        const key = `bundled:${b.task}:${b.name}`;
        tasks[l].push({ key, label: b.name, task: b.task, file: b.file });
        taskText.set(`${key}:${l}`, () => bundledText(taskFileUrl(b.file), `Bundled task ${b.name} '${l}'`));
      }
    }
    for (const f of s.expTaskFiles.filter((x) => x.language === l)) {
      tasks[l].push({ key: f.id, label: f.name, task: f.format, file: f.name });
      taskText.set(`${f.id}:${l}`, async () => f.text);
    }
    // lm-eval tasks from the Hub: the dataset and split lm-eval scores (cached with the weights)
    for (const c of lmEvalTasksFor([l]).filter((c) => s.expHubTasks.includes(c.name))) {
      const named = resolveTaskName(c.name);
      tasks[l].push({ key: `hub:${c.name}`, label: c.name, task: c.task });
      taskText.set(`hub:${c.name}:${l}`, async () => (await hubTaskRows(c.task, named.lmEvalLanguage!, { endpoint: hubEndpoint(), token: hubToken() || undefined })).text);
    }
  }
  const evalHub = s.expEvalHub.trim();
  if (evalHub && !evalHub.includes('{lang}')) return bad(`The held-out text's Hub corpus '${evalHub}' names no language: write {lang} where the language goes, e.g. mc4:{lang}:validation.`);
  const unscored = s.expTaskFiles.filter((f) => !evalLangs.includes(f.language));
  if (unscored.length) s.pushMessage({ panel: 'experiment', level: 'info', text: `Not scored: ${unscored.map((f) => `'${f.name}' (${f.language})`).join(', ')}, whose language is not among the evaluation languages.` });

  const seeds = Array.from({ length: s.expSeedCount }, (_, i) => i);
  const settings: ExperimentSettings = {
    method: s.expMethod,
    pattern: s.expPattern,
    nsamples: s.expNsamples,
    seqlen: s.expSeqlen,
    evalWindows: s.expEvalWindows,
    seeds: magnitude ? [0] : seeds,
    evalLanguages: evalLangs,
    taskLimit: limit,
    ...(owl ? { owl } : {}),
    ...(s.expInstant ? { instant: true } : {}),
    ...(s.expInstant && s.expConfirm ? { confirm: true } : {}),
    ...(variants ? { variants } : {}),
  };
  const prunedRows: { row: ExpRow; src: CalibSource | null }[] = magnitude
    ? [{ row: { id: 'magnitude', label: 'magnitude', language: null, sparsity: [] }, src: null }]
    : chosen.map((src) => ({ row: { id: src.id, label: src.name, language: src.language, sparsity: [], ...(settings.instant ? { mode: 'instant' as const } : {}) }, src }));
  // confirm: runStudy adds after each instant row its exact prune, '<label> (exact)' (row r of the study = rows[r])
  // several methods: per method one row per source (a method without calibration: one row), as runStudy plans them
  const variantRows = (vs: StudyVariant[]): ExpRow[] =>
    vs.flatMap((v, vi) => {
      const size = variantSizes[vi];
      return !needsCalibration(v.method)
        ? [{ id: `v${vi}`, label: variantLabels[vi], language: null, sparsity: [], size }]
        : chosen.flatMap((src) => {
            // instant rows (one variant, e.g. gptq@4bit): the instant row, and with confirm its exact row after it, as runStudy plans them
            const row: ExpRow = { id: `v${vi}:${src.id}`, label: vs.length > 1 ? `${variantLabels[vi]} · ${src.name}` : src.name, language: src.language, sparsity: [], size, ...(settings.instant ? { mode: 'instant' as const } : {}) };
            return settings.confirm ? [row, { ...row, id: `${row.id}:exact`, label: `${row.label} (exact)`, mode: 'exact' as const }] : [row];
          });
    });
  const shownRows = variants ? variantRows(variants) : settings.confirm ? prunedRows.flatMap((r) => [r.row, { ...r.row, id: `${r.row.id}:exact`, label: `${r.row.label} (exact)`, mode: 'exact' as const }]) : prunedRows.map((r) => r.row);
  const rows: ExpRow[] = [{ id: 'dense', label: 'dense', language: null, sparsity: [], ...(denseSize ? { size: denseSize } : {}) }, ...shownRows];
  const id = nextRunId();
  const run: ExperimentRun = { id, modelName: model.name, modelSource: model.source, modelId: model.id, settings, rows, tasks, cells: {}, status: 'running', current: null, layerTraces: [], masks: [], record: null, startedAt: Date.now(), elapsedMs: 0 };
  s.setExpRun(run);
  const update = (f: (r: ExperimentRun) => ExperimentRun): void => store().updateExpRun(id, f);

  const t0 = performance.now();
  const what = `${rows.length - 1} pruned model${rows.length === 2 ? '' : 's'} × ${evalLangs.length} language${evalLangs.length === 1 ? '' : 's'}`;
  const methodsText = variants ? variantLabels.join(' vs ') : s.expMethod;
  const outcome = await runOp('experiment', `Experiment: dense + ${what} (${methodsText}) on ${model.name}`, async (opts, signal) => {
    const columns: StudyColumn[] = [];
    for (const l of evalLangs) {
      const ts: StudyColumn['tasks'] = [];
      for (const t of tasks[l]) ts.push({ label: t.label, ...(t.file ? { fileName: t.file } : {}), request: { task: t.task, text: await taskText.get(`${t.key}:${l}`)!(), language: l } });
      columns.push({ language: l, text: await heldOutText(evalHub, l, settings, signal), tasks: ts });
    }
    runEvalTexts = { runId: id, texts: new Map(columns.flatMap((c) => (c.text ? [[c.language, c.text] as const] : []))) };
    const sources: StudySource[] = variants ? (magnitude ? [] : chosen.map((src) => ({ label: src.name, texts: calibrationTexts(src, store().sources) }))) : prunedRows.flatMap(({ row, src }) => (src ? [{ label: row.label, texts: calibrationTexts(src, store().sources) }] : []));
    const { runStudy } = await import('../../../experiment/study');
    const onEvent = experimentEvents(id, opts);
    const spec: StudySpec = {
      method: settings.method,
      ...patternFields(settings.pattern),
      nsamples: settings.nsamples,
      seqlen: settings.seqlen,
      seeds: settings.seeds,
      evalSeqlen: settings.seqlen,
      evalMaxWindows: settings.evalWindows,
      ...(limit !== null ? { taskLimit: limit } : {}),
      ...(settings.owl ? { profile: 'owl' as const, owlM: settings.owl.m, owlLambda: settings.owl.lambda } : {}),
      ...(settings.instant ? { instant: true } : {}),
      ...(settings.confirm ? { confirm: true } : {}),
      ...(settings.variants ? { variants: settings.variants } : {}),
    };
    const track = await trackStudy(model, spec, { sources, columns }, `Experiment ${what} (${methodsText}) on ${model.name}`); // history + resume (i9)
    const prior = priorStepMs(store(), model);
    const record = await runStudy(getEngine(), model.id, spec, { sources, columns }, { signal, onEvent: track.onEvent(onEvent), ...(prior ? { priorStepMs: prior } : {}) });
    await track.finish(record);
    return { record, aborted: signal.aborted };
  });
  const status: ExperimentRun['status'] = outcome?.record.complete ? 'done' : outcome?.aborted ? 'cancelled' : 'failed';
  update((r) => ({ ...r, record: outcome?.record ?? null, status, current: null, elapsedMs: performance.now() - t0 }));
  if (outcome && !outcome.record.complete) {
    const note = outcome.record.note ?? 'The experiment stopped before the end.';
    if (outcome.aborted) store().pushMessage({ panel: 'experiment', level: 'info', text: 'Cancelled.' });
    else store().pushMessage({ panel: 'experiment', level: 'error', text: note });
  }
  if (status !== 'done') {
    const filled = Object.values(store().expRun?.cells ?? {}).reduce((a, row) => a + Object.values(row).filter((c) => c.ppl.some((x) => x !== null)).length, 0);
    if (filled) store().pushMessage({ panel: 'experiment', level: 'info', text: `The ${filled} finished cell${filled === 1 ? ' is' : 's are'} kept below.` });
  }
}

/**
 * A number as the table and CSV print it: twelve significant digits, so float noise of a mean or a
 * difference (0.1 - 0.4 = -0.30000000000000004) goes and every digit measured stays (records keep
 * at most six).
 */
export function clean(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(12)) : x;
}

/** Rows of the table of every number: one per (row, language, metric). */
export function experimentTable(run: ExperimentRun): { source: string; masks: 'dense' | 'sequential' | 'instant' | 'exact'; language: string; metric: string; value: number; stderr: number | null; seeds: number; change: number | null }[] {
  const out: ReturnType<typeof experimentTable> = [];
  for (const row of run.rows) {
    for (const l of run.settings.evalLanguages) {
      const c = run.cells[row.id]?.[l];
      if (!c) continue;
      const dense = run.cells.dense?.[l];
      const push = (metric: string, xs: (number | null)[], denseXs: (number | null)[] | undefined, stderr: number | null = null): void => {
        const v = mean(xs);
        if (v === null) return;
        const d = denseXs ? mean(denseXs) : null;
        const err = stderr ?? spread(xs);
        out.push({ source: row.label, masks: row.id === 'dense' ? 'dense' : (row.mode ?? 'sequential'), language: l, metric, value: clean(v), stderr: err === null ? null : clean(err), seeds: xs.filter((x) => x !== null).length, change: row.id === 'dense' || d === null ? null : clean(v - d) });
      };
      push('perplexity', c.ppl, dense?.ppl);
      push('bits per byte', c.bpb, dense?.bpb);
      for (const t of run.tasks[l] ?? []) {
        const scores = (c.tasks[t.key] ?? []).filter((x): x is TaskScore => !!x);
        if (!scores.length) continue;
        const accs = scores.map((x) => x.acc);
        const se = scores.length > 1 ? spread(accs) : scores[0].stderr;
        push(`${t.label} accuracy`, accs, dense?.tasks[t.key]?.flatMap((x) => (x ? [x.acc] : [])), se);
      }
    }
  }
  return out;
}

/** CSV of `experimentTable` (RFC 4180 quoting). */
export function experimentCsv(run: ExperimentRun): string {
  const q = (v: string | number | null): string => (v === null ? '' : typeof v === 'number' ? String(v) : /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const lines = ['calibration_source,eval_language,metric,value,stderr_or_sd,seeds,change_vs_dense,masks'];
  for (const r of experimentTable(run)) lines.push([r.source, r.language, r.metric, r.value, r.stderr, r.seeds, r.change, r.masks].map(q).join(','));
  return `${lines.join('\n')}\n`;
}

