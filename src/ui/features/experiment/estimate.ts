/**
 * The time estimate next to "Run experiment": a forward rate measured on this adapter (a few forward
 * passes over synthetic windows of the active model, kept per adapter and model in localStorage and
 * in the store) and the run plan of the current settings (src/experiment/estimate.ts).
 */
import { parseVariantList } from '../../../experiment/variants';
import { needsCalibration, type ModelSummary } from '../../../engine';
import { estimateStudy, fasterSettings, measureForwardRate as measureRate, type FasterSettings, type StudyShape } from '../../../experiment/estimate';
import type { StepKind } from '../../../experiment/study';
import { useAppStore, type AppState } from '../../store';
import { getEngine, store } from '../../store/actions/core';

const STORAGE_PREFIX = 'polyprune-rate:';
let measuring: Promise<void> | null = null;
/** Cancels the measurement in flight (set while one runs). */
let stopMeasuring: (() => void) | null = null;

/**
 * Cancel the speed measurement in flight, if any (nothing is kept; RunEstimate measures again when the
 * page is idle). Called by actions that use the engine before they show as running (e.g. the
 * experiment's export sizes), so the user's click does not wait behind the measurement.
 */
export function stopRateMeasurement(): void {
  stopMeasuring?.();
}

/**
 * The key of a measured rate: the adapter and the content hash of the model, or of the model it was
 * pruned from (a pruned copy runs the same kernels at the same speed, so a prune measures nothing again).
 */
export function rateKey(s: AppState, model: ModelSummary): string | null {
  let m = model;
  for (let hops = 0; m.prunedFrom !== undefined && hops < s.models.length; hops++) {
    const from = s.models.find((x) => x.id === m.prunedFrom);
    if (!from) break;
    m = from;
  }
  return s.gpu.state === 'ready' ? `${s.gpu.info.description}|${m.sha256}` : null;
}

/** A stored rate for this key (tokens per ms), or null. */
export function storedRate(key: string): number | null {
  try {
    const v = Number(globalThis.localStorage?.getItem(STORAGE_PREFIX + key));
    return Number.isFinite(v) && v > 0 ? v : null;
  } catch {
    return null;
  }
}

/**
 * Measure the forward rate of the active model on this adapter, once per adapter and model: one
 * warm-up pass (pipelines compile), then 4 windows of 64 tokens timed. Runs only while nothing else
 * does (the engine has one GPU queue): it starts when the page is idle and is cancelled as soon as the
 * user starts an operation, to be measured again afterwards; the engine runs it as background work
 * (OpOptions.background), so any other engine call cancels it and waits for its buffers to be freed.
 * Quietly gives up on errors (the estimate then says it is unknown).
 */
export function measureForwardRate(model: ModelSummary): Promise<void> {
  if (measuring) return measuring;
  const s = store();
  const key = rateKey(s, model);
  if (!key || s.running) return Promise.resolve();
  const known = storedRate(key);
  if (known !== null) {
    store().setExpRate({ key, tokensPerMs: known });
    return Promise.resolve();
  }
  measuring = (async () => {
    // A user's operation takes the GPU at once: the measurement is cancelled when one starts (nothing is
    // kept) and RunEstimate measures again once the page is idle.
    const opId = `rate-${key}-${Date.now()}`;
    let cancelled = false;
    const stop = (): void => {
      if (cancelled) return;
      cancelled = true;
      getEngine().cancel(opId).catch(() => undefined);
    };
    stopMeasuring = stop;
    const yieldToUser = useAppStore.subscribe((st) => {
      if (st.running) stop();
    });
    try {
      // background: the engine runs it only while nothing else does, and cancels it for any other call
      // (also those that do not go through the store, e.g. the ?test=1 hook's), before that call allocates.
      const tokensPerMs = await measureRate(getEngine(), model, { opId, background: true });
      try {
        globalThis.localStorage?.setItem(STORAGE_PREFIX + key, String(tokensPerMs));
      } catch {
        /* storage full or off: the rate stays in the store */
      }
      store().setExpRate({ key, tokensPerMs });
    } catch {
      /* cancelled for a user's operation, or no estimate (the page says so) */
    } finally {
      yieldToUser();
      stopMeasuring = null;
      measuring = null;
    }
  })();
  return measuring;
}

/** The study's shape from the Experiment panel's settings (as runExperiment builds it). */
export function studyShape(s: AppState): StudyShape | null {
  if (s.languages.state !== 'ready') return null;
  const evalLangs = s.languages.languages.filter((l) => s.expEvalLanguages.includes(l));
  const magnitude = !needsCalibration(s.expMethod);
  const limit = Number.isNaN(s.expTaskLimit) ? null : s.expTaskLimit;
  const udhr = s.udhr.state === 'ready' ? s.udhr.languages : [];
  const cap = (n: number | null): number | null => (limit === null ? n : n === null ? limit : Math.min(n, limit));
  const columns = evalLangs.map((l) => {
    const tasks: (number | null)[] = [];
    if (s.expUdhr && udhr.some((x) => x.language === l)) tasks.push(cap(null));
    if (s.expBundled) for (const b of s.bundledTasks.filter((x) => x.language === l)) tasks.push(cap(b.items));
    for (const _ of s.expTaskFiles.filter((x) => x.language === l)) tasks.push(cap(null));
    return { text: true, tasks };
  });
  const selected = s.sources.filter((x) => x.selected).length;
  let rows = magnitude ? 1 : selected;
  if (s.expVariants.trim()) {
    try {
      // several methods: a row per method and source (a method without calibration: one row)
      rows = parseVariantList(s.expVariants).reduce((n, v) => n + (needsCalibration(v.method) ? selected : 1), 0);
    } catch {
      /* the panel shows the problem; the estimate counts the one method */
    }
  }
  return {
    rows,
    seeds: magnitude ? 1 : s.expSeedCount,
    method: s.expMethod,
    calibrated: !magnitude,
    nsamples: s.expNsamples,
    seqlen: s.expSeqlen,
    instant: s.expInstant && !magnitude,
    confirm: s.expInstant && s.expConfirm && !magnitude,
    columns,
    evalWindows: s.expEvalWindows,
    evalSeqlen: s.expSeqlen,
  };
}

/** Per-step times for the run's first ETA (before any step of a kind has finished), or undefined without a rate. */
export function priorStepMs(s: AppState, model: ModelSummary): Partial<Record<StepKind, number>> | undefined {
  const key = rateKey(s, model);
  const shape = studyShape(s);
  if (!key || !shape || s.expRate?.key !== key) return undefined;
  return estimateStudy(shape, s.expRate.tokensPerMs).stepMs;
}

/** Apply the faster settings (one click). */
export function applyFasterSettings(f: FasterSettings): void {
  store().setExp({
    ...(f.taskLimit !== undefined ? { expTaskLimit: f.taskLimit } : {}),
    ...(f.evalWindows !== undefined ? { expEvalWindows: f.evalWindows } : {}),
    ...(f.seeds !== undefined ? { expSeedCount: f.seeds } : {}),
    ...(f.nsamples !== undefined ? { expNsamples: f.nsamples } : {}),
  });
}

export { estimateStudy, fasterSettings };
