import { useId, useState } from 'react';
import { useAppStore, type ExperimentRun, type ExpMetric, type LayerTrace } from '../../../store';
import { cellProgress, runTasks } from '../../history/recordRun';
import { experimentCsv, experimentTable, mean } from '../../../store/actions';
import { fmtDuration, fmtNum } from '../../../format';
import { saveBlob } from '../../../download';
import { needsCalibration } from '../../../../engine';
import { ExperimentHeatmap, type HeatMetric } from '../ExperimentHeatmap/ExperimentHeatmap';
import { LayerSparsityChart } from '../../../charts/LayerSparsityChart/LazyLayerSparsityChart';
import { PublishedCompare } from '../PublishedCompare/PublishedCompare';
import { SIZE_FORMAT, winnersAtSize } from '../../../../experiment/size';
import { variantLabel } from '../../../../experiment/variants';
import './ExperimentResults.css';

/** The live results of the Experiment panel's last run (the metric and task shown live in the store). */
export function ExperimentResults() {
  const run = useAppStore((s) => s.expRun);
  const metric = useAppStore((s) => s.expMetric);
  const taskShown = useAppStore((s) => s.expTaskShown);
  const setExp = useAppStore((s) => s.setExp);
  if (!run) return null;
  return (
    <>
      <ResultsView run={run} view={{ metric, taskShown, setMetric: (m) => setExp({ expMetric: m }), setTaskShown: (k) => setExp({ expTaskShown: k }) }} />
      <PublishedCompare run={run} />
    </>
  );
}

/** Which metric and task a results view shows, and how to change them. */
export interface ResultsViewState {
  metric: ExpMetric;
  taskShown: string | null;
  setMetric: (m: ExpMetric) => void;
  setTaskShown: (key: string) => void;
}

/**
 * An experiment's results, the one layout for a live run (Experiment panel) and a stored one (History,
 * shared links, through recordToRun): facts line, heatmaps (language-model metric; task accuracy, each
 * task named with its files), the layer charts (reconstruction error; OWL's sparsity per layer), mask
 * overlaps and the table of every number. `name` tells two views on one page apart (controls' names);
 * without `view` the metric and task shown are the view's own.
 */
export function ResultsView({ run, view, name }: { run: ExperimentRun; view?: ResultsViewState; name?: string }) {
  const [ownMetric, setOwnMetric] = useState<ExpMetric>('ppl');
  const [ownTask, setOwnTask] = useState<string | null>(null);
  const group = useId();
  const v: ResultsViewState = view ?? { metric: ownMetric, taskShown: ownTask, setMetric: setOwnMetric, setTaskShown: setOwnTask };
  const tasks = runTasks(run);
  const shown = tasks.find((t) => t.key === v.taskShown) ?? tasks[0] ?? null;
  const progress = cellProgress(run);
  const p = run.settings.pattern;
  const of = name ? ` (${name})` : '';
  return (
    <div className="exp-results" aria-label={`Experiment results${of}`} role="region">
      <p className="hint exp-facts">
        {run.modelName}:{' '}
        {run.settings.variants
          ? run.settings.variants.map((x) => variantLabel({ method: x.method, sparsity: x.nm ? (x.nm.m - x.nm.n) / x.nm.m : (x.sparsity ?? 0), nm: x.nm ?? null, quantize: x.quantize ? { bits: x.quantize.bits, groupSize: x.quantize.groupSize ?? 128, actOrder: !!x.quantize.actOrder, staticGroups: !!x.quantize.staticGroups } : null })).join(' vs ')
          : `${run.settings.method}, ${p.kind === 'nm' ? `${p.n}:${p.m}` : `${fmtNum(p.sparsity * 100, 3)} % unstructured`}`}
        {run.settings.owl ? `, OWL layer-wise (M ${run.settings.owl.m}, λ ${run.settings.owl.lambda})` : ''}
        {needsCalibration(run.settings.method) || run.settings.variants ? `, ${run.settings.nsamples} calibration window${run.settings.nsamples === 1 ? '' : 's'} of ${run.settings.seqlen} tokens` : ''}, {run.settings.evalWindows ? run.settings.evalWindows : 'all'} evaluation window{run.settings.evalWindows === 1 ? '' : 's'} per
        language, seed{run.settings.seeds.length === 1 ? '' : 's'} {run.settings.seeds.join(', ')}.{' '}
        {run.settings.instant && <InstantFacts run={run} />}
        <span className="exp-status" data-status={run.status}>
          {run.status === 'running'
            ? `Measuring: ${progress.done} of ${progress.total} cells done.`
            : run.status === 'done'
              ? run.elapsedMs
                ? `Done in ${fmtDuration(run.elapsedMs)}.`
                : `Complete: ${progress.total} cells.`
              : `${run.status === 'cancelled' ? (run.elapsedMs ? 'Cancelled' : 'Incomplete') : 'Stopped by an error'}: ${progress.done} of ${progress.total} cells measured.`}
        </span>
      </p>
      <div className="exp-heat-head">
        <h3>{v.metric === 'ppl' ? 'Perplexity' : 'Bits per byte'}</h3>
        <fieldset className="exp-metric">
          <legend className="visually-hidden">Language-model metric{of}</legend>
          <label>
            <input type="radio" name={group} aria-label={`Show perplexity${of}`} checked={v.metric === 'ppl'} onChange={() => v.setMetric('ppl')} /> perplexity
          </label>
          <label>
            <input type="radio" name={group} aria-label={`Show bits per byte${of}`} checked={v.metric === 'bpb'} onChange={() => v.setMetric('bpb')} /> bits per byte
          </label>
        </fieldset>
      </div>
      <ExperimentHeatmap run={run} metric={{ kind: v.metric }} />
      {shown && (
        <>
          <div className="exp-heat-head">
            <h3 className="exp-task-title">{shown.label} accuracy</h3>
            {tasks.length > 1 && (
              <label>
                Task shown{' '}
                <select value={shown.key} aria-label={`Task shown${of}`} onChange={(e) => v.setTaskShown(e.target.value)}>
                  {tasks.map((t) => (
                    <option key={t.key} value={t.key}>
                      {t.label}
                    </option>
                  ))}
                </select>
              </label>
            )}
          </div>
          {shown.files.length > 0 && <p className="hint exp-task-files">Task file{new Set(shown.files.map((f) => f.file)).size === 1 ? '' : 's'}: {taskFiles(shown.files)}</p>}
          <ExperimentHeatmap run={run} metric={{ kind: 'task', key: shown.key, label: shown.label } satisfies HeatMetric} />
        </>
      )}
      <div className="heatmap-legend" aria-hidden="true">
        <span>pale: like dense · red: worse than dense · green: better</span>
        <span>★ best calibration for the column (tied cells all get it) · ≈ within the standard error (or the spread over seeds) of the best · outlined: own language · ⋯ measuring · · pending</span>
      </div>
      <LayerChart traces={run.layerTraces} rows={run.rows} />
      {run.settings.owl && p.kind === 'unstructured' && <OwlChart run={run} target={p.sparsity} />}
      <MaskChart run={run} />
      <SizeTable run={run} />
      <ResultTable run={run} />
    </div>
  );
}

/** "ar.swapfar.txt (ar), de.swapfar.txt (de)"; one file used by every language is named once. */
function taskFiles(files: { language: string; file: string }[]): string {
  const names = new Set(files.map((f) => f.file));
  return names.size === 1 ? `${files[0].file} (${files.map((f) => f.language).join(', ')})` : files.map((f) => `${f.file} (${f.language})`).join(', ');
}

/** Instant rows: how the masks were made, and the time of each row's mask update. */
function InstantFacts({ run }: { run: ExperimentRun }) {
  const times = run.rows.flatMap((r) => r.updateMs ?? []);
  const exact = run.rows.filter((r) => r.mode === 'exact' && r.layerIou?.length);
  // a quantizing method (GPTQ): the share of equal integer codes instead of mask IoU
  const exactCodes = run.rows.filter((r) => r.mode === 'exact' && r.layerCodes?.length);
  return (
    <span className="exp-instant">
      Instant rows: one calibration pass per seed collected every source&apos;s statistics; each row&apos;s masks were mixed from them
      {run.rows.some((r) => r.mode === 'exact') ? "; '(exact)' rows: the exact sequential prune of the same mix" : ' (no sequential prune)'}
      {times.length ? `, ${fmtNum(times.reduce((a, b) => a + b, 0) / times.length, 3)} ms per mask update on average` : ''}.{' '}
      {exact.map((r) => (
        <span key={r.id} className="exp-instant-iou">
          {r.label}: mask IoU with the instant masks per layer {r.layerIou![0].map((v) => (v === null ? '–' : v.toFixed(3))).join(' ')}.{' '}
        </span>
      ))}
      {exactCodes.map((r) => (
        <span key={r.id} className="exp-instant-iou">
          {r.label}: integer codes equal to the instant model&apos;s per layer {r.layerCodes![0].map((v) => (v === null ? '–' : v.toFixed(3))).join(' ')}.{' '}
        </span>
      ))}
    </span>
  );
}

const mean0 = (xs: readonly (number | null)[] | undefined): number | null => mean(xs ?? []);

/**
 * Layers finishing while each model is pruned: one strip per prune (calibration source and seed),
 * one bar per decoder layer, its height the mean relative reconstruction error of the layer's
 * matrices on the calibration activations (per matrix in the bar's label).
 */
export function LayerChart({ traces, rows }: { traces: LayerTrace[]; rows: ExperimentRun['rows'] }) {
  if (!traces.length) return null;
  const label = (t: LayerTrace): string => `${rows.find((r) => r.id === t.rowId)?.label ?? t.rowId}${traces.some((x) => x.seed > 0) ? ` seed ${t.seed}` : ''}`;
  const max = Math.max(1e-12, ...traces.flatMap((t) => t.recon.map((r) => mean0(r) ?? 0)));
  const unmeasured = traces.some((t) => t.recon.some((r) => r && mean0(r) === null));
  return (
    <figure className="exp-layers" aria-label="Reconstruction error per layer while pruning">
      <figcaption>
        Pruning, layer by layer: relative reconstruction error ‖WX − W′X‖² / ‖WX‖² on the calibration activations (bar: mean over the layer&apos;s matrices, scale up to{' '}
        {max.toPrecision(2)}; grey: not pruned yet{unmeasured ? '; flat: pruned, its error not measured (the exact rows of an instant grid)' : ''}).
      </figcaption>
      {traces.map((t, k) => {
        const done = t.finishedAt.filter((x) => x !== undefined).length;
        return (
          <div key={k} className="exp-layer-row" data-row={t.rowId}>
            <span className="exp-layer-name">{label(t)}</span>
            <span className="exp-layer-bars">
              {Array.from({ length: t.layers }, (_, i) => {
                const r = t.recon[i];
                const m = mean0(r);
                const text = r
                  ? `${label(t)}, layer ${i}: mean reconstruction error ${m === null ? 'not measured' : m.toPrecision(3)} (${t.matrices.map((name, j) => `${name.replace(/^(self_attn|mlp)\./, '')} ${r[j] === null ? '–' : r[j]!.toPrecision(3)}`).join(', ')})`
                  : `${label(t)}, layer ${i}: not pruned yet`;
                return <span key={i} role="img" aria-label={text} title={text} className="exp-layer-bar" data-done={r ? true : undefined} style={{ height: r && m !== null ? `${Math.max(6, (100 * m) / max)}%` : '4%' }} />;
              })}
            </span>
            <span className="hint">
              {done}/{t.layers}
            </span>
          </div>
        );
      })}
    </figure>
  );
}

/** Mask overlap (IoU of the pruned positions) between calibration sources, per layer and matrix type. */
export function MaskChart({ run }: { run: ExperimentRun }) {
  if (!run.masks.length) return null;
  const name = (id: string): string => run.rows.find((r) => r.id === id)?.label ?? id;
  return (
    <figure className="exp-masks" aria-label="Mask overlap between calibration sources">
      <figcaption>Masks across calibration sources: IoU of the pruned weights per layer and matrix (1 = the same weights removed; seed {run.masks[0].seed}).</figcaption>
      <div className="exp-mask-grid">
        {run.masks.map((m, k) => (
          <div key={k} className="table-scroll">
            <table className="heatmap exp-mask" aria-label={`Mask IoU, ${name(m.a)} vs ${name(m.b)}`}>
              <caption>
                {name(m.a)} vs {name(m.b)}: mean IoU {(mean0(m.iou.flat()) ?? 0).toFixed(3)}
              </caption>
              <thead>
                <tr>
                  <th scope="col">layer</th>
                  {m.matrices.map((x) => (
                    <th key={x} scope="col">
                      {x.replace(/^(self_attn|mlp)\./, '')}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {m.iou.map((row, layer) => (
                  <tr key={layer}>
                    <th scope="row">{layer}</th>
                    {row.map((v, j) => (
                      <td
                        key={j}
                        aria-label={`${name(m.a)} vs ${name(m.b)}, layer ${layer}, ${m.matrices[j]}: IoU ${v === null ? 'n/a' : v.toFixed(3)}`}
                        style={v === null ? undefined : { background: `hsl(215 70% ${96 - 50 * v}%)`, color: v > 0.7 ? '#fff' : 'var(--text)' }}
                      >
                        {v === null ? '–' : v.toFixed(2)}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      </div>
    </figure>
  );
}

type SortKey = 'source' | 'language' | 'metric' | 'value' | 'change';

/** Every number of the experiment, sortable, copyable as CSV. */
export function ResultTable({ run }: { run: ExperimentRun }) {
  const [sort, setSort] = useState<{ key: SortKey; dir: 1 | -1 }>({ key: 'source', dir: 1 });
  const [copied, setCopied] = useState<string | null>(null);
  const rows = experimentTable(run);
  const order = run.rows.map((r) => r.label);
  const cmp = (a: (typeof rows)[number], b: (typeof rows)[number]): number => {
    const k = sort.key;
    if (k === 'source') return order.indexOf(a.source) - order.indexOf(b.source) || a.language.localeCompare(b.language) || a.metric.localeCompare(b.metric);
    if (k === 'value' || k === 'change') return (a[k] ?? -Infinity) - (b[k] ?? -Infinity);
    return a[k].localeCompare(b[k]);
  };
  const sorted = [...rows].sort((a, b) => sort.dir * cmp(a, b));
  const header = (key: SortKey, text: string, left = false) => (
    <th scope="col" className={left ? 'text' : undefined} aria-sort={sort.key === key ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none'}>
      <button type="button" className="link-button" onClick={() => setSort({ key, dir: sort.key === key ? (-sort.dir as 1 | -1) : 1 })}>
        {text}
        {sort.key === key ? (sort.dir === 1 ? ' ▲' : ' ▼') : ''}
      </button>
    </th>
  );
  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(experimentCsv(run));
      setCopied('Copied as CSV.');
    } catch {
      setCopied('The browser refused the clipboard; select the table and copy it instead.');
    }
  };
  if (!rows.length) return null;
  return (
    <details className="exp-table">
      <summary>Every number ({rows.length} rows)</summary>
      <div className="row">
        <button type="button" className="small" onClick={() => void copy()}>
          Copy as CSV
        </button>
        {run.record !== null && (
          <button type="button" className="small" onClick={() => saveBlob(new Blob([JSON.stringify(run.record, null, 2)], { type: 'application/json' }), `polyprune-experiment-${run.id}.json`)}>
            Download the result record (JSON)
          </button>
        )}
        {copied && (
          <span className="hint" role="status">
            {copied}
          </span>
        )}
      </div>
      <div className="table-scroll">
        <table className="data-table" aria-label="Every number of the experiment">
          <thead>
            <tr>
              {header('source', 'calibration source', true)}
              <th scope="col" className="text">
                masks
              </th>
              {header('language', 'evaluation language', true)}
              {header('metric', 'metric', true)}
              {header('value', 'value')}
              <th scope="col">± stderr / sd</th>
              <th scope="col">seeds</th>
              {header('change', 'change vs dense')}
            </tr>
          </thead>
          <tbody>
            {sorted.map((r) => (
              <tr key={`${r.source}|${r.language}|${r.metric}`}>
                <td className="text">{r.source}</td>
                <td className="text">{r.masks}</td>
                <td className="text">{r.language}</td>
                <td className="text">{r.metric}</td>
                <td>{fmtNum(r.value)}</td>
                <td>{r.stderr === null ? '—' : fmtNum(r.stderr, 3)}</td>
                <td>{r.seeds}</td>
                <td>{r.change === null ? '—' : `${r.change >= 0 ? '+' : ''}${fmtNum(r.change, 3)}`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

/** OWL: the sparsity each decoder layer reached, per pruned row (first seed), live as layers finish. */
function OwlChart({ run, target }: { run: ExperimentRun; target: number }) {
  const series = run.rows
    .filter((r) => r.id !== 'dense')
    .map((r) => ({ name: r.label, values: run.layerTraces.find((t) => t.rowId === r.id && t.seed === run.settings.seeds[0])?.layerSparsity ?? [] }))
    .filter((x) => x.values.length > 0);
  if (!series.length) return null;
  return (
    <div className="exp-owl">
      <h3>Sparsity per layer (OWL)</h3>
      <p className="hint">Each calibration source gives its own outlier ratios and so its own layer-wise sparsities; the mean over layers stays at the target.</p>
      <LayerSparsityChart series={series} target={target} />
    </div>
  );
}

/** A row's mean over the evaluation languages of its perplexity, and over every task of its accuracy (each cell: mean over seeds). */
function rowMeans(run: ExperimentRun, id: string): { ppl: number | null; acc: number | null } {
  const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const ppl: number[] = [];
  const acc: number[] = [];
  for (const c of Object.values(run.cells[id] ?? {})) {
    const p = avg(c.ppl.filter((x): x is number => typeof x === 'number'));
    if (p !== null) ppl.push(p);
    for (const scores of Object.values(c.tasks)) {
      const a = avg(scores.flatMap((x) => (x ? [x.acc] : [])));
      if (a !== null) acc.push(a);
    }
  }
  return { ppl: avg(ppl), acc: avg(acc) };
}

/**
 * The size column (several methods, or rows of different sizes): bytes of each row's exported weights
 * (pruned rows: the dense HF safetensors folder, PolyPrune writes no sparse format; quantized rows: the
 * HF GPTQ folder), mean perplexity and task accuracy, and which row wins at each size.
 */
export function SizeTable({ run }: { run: ExperimentRun }) {
  const sized = run.rows.filter((r) => r.size);
  if (!sized.length || (!run.settings.variants && new Set(sized.map((r) => r.size!.bytes)).size < 2)) return null;
  const means = run.rows.map((r) => rowMeans(run, r.id));
  const wins = winnersAtSize(run.rows.map((r, i) => (i > 0 && r.size ? { bytes: r.size.bytes, ...means[i] } : null)));
  return (
    <div className="exp-sizes">
      <h3>Size of the exported model</h3>
      <table className="exp-size-table" aria-label="Exported size per row">
        <thead>
          <tr>
            <th scope="col">row</th>
            <th scope="col">exported bytes</th>
            <th scope="col">format</th>
            <th scope="col">mean perplexity</th>
            <th scope="col">mean task accuracy</th>
          </tr>
        </thead>
        <tbody>
          {run.rows.map((r, i) => (
            <tr key={r.id}>
              <th scope="row">{r.label}</th>
              <td className="num">{r.size ? r.size.bytes.toLocaleString('en-US') : '—'}</td>
              <td>{r.size ? SIZE_FORMAT[r.size.format] : '—'}</td>
              <td className="num">{means[i].ppl === null ? '—' : fmtNum(means[i].ppl!, 4)}</td>
              <td className="num">{means[i].acc === null ? '—' : fmtNum(means[i].acc!, 3)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {wins.length > 0 && (
        <ul className="hint exp-size-winners" aria-label="Best row at each size">
          {wins.map((w) => (
            <li key={w.bytes}>
              At most {w.bytes.toLocaleString('en-US')} bytes the best row is <strong>{run.rows[w.row].label}</strong> (lowest mean perplexity among the rows no larger).
            </li>
          ))}
        </ul>
      )}
      <p className="hint">The bytes of the model files each row's export writes (config, pruning.json and tokenizer files, a few kB, are not counted). Pruned rows are stored dense, so pruning alone does not make the download smaller; a quantized row whose matrices the GPTQ folder cannot pack is exported dequantized, at the dense size.</p>
    </div>
  );
}
