import { useState } from 'react';
import { needsCalibration } from '../../../engine';
import { useAppStore, type ExperimentRun, type LayerTrace } from '../../store';
import { experimentCsv, experimentTable } from '../../store/actions';
import { fmtDuration, fmtNum } from '../../format';
import { saveBlob } from '../../download';
import { ExperimentHeatmap, type HeatMetric } from '../ExperimentHeatmap/ExperimentHeatmap';
import { LayerSparsityChart } from '../../charts/LayerSparsityChart/LazyLayerSparsityChart';
import './ExperimentResults.css';

/** The live results of the last experiment: heatmaps, layers finishing, the table of every number. */
export function ExperimentResults() {
  const run = useAppStore((s) => s.expRun);
  const metric = useAppStore((s) => s.expMetric);
  const taskShown = useAppStore((s) => s.expTaskShown);
  const setExp = useAppStore((s) => s.setExp);
  if (!run) return null;
  const tasks = new Map<string, string>();
  for (const l of run.settings.evalLanguages) for (const t of run.tasks[l] ?? []) tasks.set(t.key, t.label);
  const taskKey = taskShown && tasks.has(taskShown) ? taskShown : ([...tasks.keys()][0] ?? null);
  const cells = run.rows.length * run.settings.evalLanguages.length;
  const filled = Object.values(run.cells).reduce((a, r) => a + Object.values(r).filter((c) => c.ppl.length).length, 0);
  const p = run.settings.pattern;
  return (
    <div className="exp-results" aria-label="Experiment results" role="region">
      <p className="hint exp-facts">
        {run.modelName}: {run.settings.method}, {p.kind === 'nm' ? `${p.n}:${p.m}` : `${(p.sparsity * 100).toFixed(0)} % unstructured`}
        {run.settings.owl ? `, OWL layer-wise (M ${run.settings.owl.m}, λ ${run.settings.owl.lambda})` : ''}
        {needsCalibration(run.settings.method) ? `, ${run.settings.nsamples} calibration windows` : ''} of {run.settings.seqlen} tokens, {run.settings.evalWindows} evaluation windows per
        language, seed{run.settings.seeds.length === 1 ? '' : 's'} {run.settings.seeds.join(', ')}.{' '}
        {run.settings.instant && <InstantFacts run={run} />}
        <span className="exp-status" data-status={run.status}>
          {run.status === 'running' ? `Measuring: ${filled} of ${cells} cells done.` : run.status === 'done' ? `Done in ${fmtDuration(run.elapsedMs)}.` : `${run.status === 'cancelled' ? 'Cancelled' : 'Stopped by an error'}: ${filled} of ${cells} cells measured.`}
        </span>
      </p>
      <div className="exp-heat-head">
        <h3>Perplexity</h3>
        <fieldset className="exp-metric">
          <legend className="visually-hidden">Language-model metric</legend>
          <label>
            <input type="radio" name="exp-metric" checked={metric === 'ppl'} onChange={() => setExp({ expMetric: 'ppl' })} /> perplexity
          </label>
          <label>
            <input type="radio" name="exp-metric" checked={metric === 'bpb'} onChange={() => setExp({ expMetric: 'bpb' })} /> bits per byte
          </label>
        </fieldset>
      </div>
      <ExperimentHeatmap run={run} metric={{ kind: metric }} />
      {taskKey && (
        <>
          <div className="exp-heat-head">
            <h3>Task accuracy</h3>
            {tasks.size > 1 && (
              <label>
                Task shown{' '}
                <select value={taskKey} onChange={(e) => setExp({ expTaskShown: e.target.value })}>
                  {[...tasks].map(([k, label]) => (
                    <option key={k} value={k}>
                      {label}
                    </option>
                  ))}
                </select>
              </label>
            )}
          </div>
          <ExperimentHeatmap run={run} metric={{ kind: 'task', key: taskKey, label: tasks.get(taskKey)! } satisfies HeatMetric} />
        </>
      )}
      <div className="heatmap-legend" aria-hidden="true">
        <span>pale: like dense · red: worse than dense · green: better</span>
        <span>★ best calibration for the column · ≈ within the standard error (or the spread over seeds) of the best · outlined: own language · ⋯ measuring · · pending</span>
      </div>
      <LayerChart traces={run.layerTraces} rows={run.rows} />
      {run.settings.owl && p.kind === 'unstructured' && <OwlChart run={run} target={p.sparsity} />}
      <MaskChart run={run} />
      <ResultTable run={run} />
    </div>
  );
}

/** Instant rows: how the masks were made, and the time of each row's mask update. */
function InstantFacts({ run }: { run: ExperimentRun }) {
  const times = run.rows.flatMap((r) => r.updateMs ?? []);
  const exact = run.rows.filter((r) => r.mode === 'exact' && r.layerIou?.length);
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
    </span>
  );
}

const mean0 = (xs: readonly (number | null)[] | undefined): number | null => {
  const v = (xs ?? []).filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length ? v.reduce((p, q) => p + q, 0) / v.length : null;
};

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
  const header = (key: SortKey, text: string) => (
    <th scope="col" aria-sort={sort.key === key ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none'}>
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
              {header('source', 'calibration source')}
              <th scope="col">masks</th>
              {header('language', 'evaluation language')}
              {header('metric', 'metric')}
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
