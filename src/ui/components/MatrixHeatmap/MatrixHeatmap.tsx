import type { GridCell } from '../../../experiment/grid';
import { useAppStore, type MatrixMetric, type MatrixRun } from '../../store';
import { fmtDuration, fmtNum } from '../../format';
import './MatrixHeatmap.css';

const value = (c: GridCell, metric: MatrixMetric): number | null => (metric === 'ppl' ? c.ppl : c.bitsPerByte);
const fmtValue = (x: number | null, metric: MatrixMetric): string => (x === null ? 'n/a' : metric === 'ppl' ? fmtNum(x) : x.toFixed(3));

/**
 * Colour of a cell whose value is `ratio` times the dense model's: pale for ×1, deeper red up to the
 * largest ratio in the matrix (log scale), green when pruning made it better than dense.
 */
export function heatColor(ratio: number, maxRatio: number): { background: string; color: string } {
  if (!Number.isFinite(ratio)) return { background: 'var(--panel-alt)', color: 'var(--text)' };
  if (ratio < 1) return { background: 'hsl(140 55% 88%)', color: 'var(--text)' };
  const t = maxRatio > 1 ? Math.min(1, Math.log(ratio) / Math.log(maxRatio)) : 0;
  const lightness = 96 - 44 * t;
  return { background: `hsl(${48 - 44 * t} 85% ${lightness}%)`, color: lightness < 64 ? '#fff' : 'var(--text)' };
}

function summary(run: MatrixRun): string {
  const n = run.wins.length;
  if (!n) return 'No evaluation language is also a calibration language, so own-language calibration cannot be compared here.';
  const k = run.wins.filter((w) => w.wins).length;
  const others = run.wins.filter((w) => !w.wins).map((w) => `${w.language} (best with ${w.best})`);
  const head = `Own-language calibration is best for ${k} of ${n} language${n === 1 ? '' : 's'}`;
  return others.length ? `${head}; not for ${others.join(', ')}.` : `${head}.`;
}

/** The language matrix as a heatmap table: rows = calibration language, columns = evaluation language. */
export function MatrixHeatmap() {
  const run = useAppStore((s) => s.matrixRun);
  const metric = useAppStore((s) => s.matrixMetric);
  const setMetric = useAppStore((s) => s.setMatrixMetric);
  if (!run) return null;
  const g = run.result;
  const ev = g.spec.evalLanguages;
  const calib = g.spec.calibLanguages;
  const ratio = (c: GridCell, l: string): number => {
    const v = value(c, metric);
    const d = value(g.dense[l], metric);
    return v === null || d === null || d === 0 ? Number.NaN : v / d;
  };
  let maxRatio = 1;
  for (const c of calib) for (const l of ev) if (Number.isFinite(ratio(g.rows[c][l], l))) maxRatio = Math.max(maxRatio, ratio(g.rows[c][l], l));
  // Best calibration per evaluation language: the lowest perplexity (bits per byte orders the same way).
  const best = Object.fromEntries(ev.map((l) => [l, calib.reduce((b, c) => (g.rows[c][l].ppl < g.rows[b][l].ppl ? c : b), calib[0])]));
  const structure = g.spec.nm ? `${g.spec.nm.n}:${g.spec.nm.m}` : `${fmtNum((g.spec.sparsity ?? 0) * 100)} % unstructured`;
  const metricName = metric === 'ppl' ? 'perplexity' : 'bits per byte';

  return (
    <div className="matrix-result">
      <div className="matrix-result-head">
        <p className="matrix-summary" role="status">
          {summary(run)}
        </p>
        <fieldset className="matrix-metric">
          <legend className="visually-hidden">Show</legend>
          <label>
            <input type="radio" name="matrix-metric" checked={metric === 'ppl'} onChange={() => setMetric('ppl')} /> perplexity
          </label>
          <label>
            <input type="radio" name="matrix-metric" checked={metric === 'bpb'} onChange={() => setMetric('bpb')} /> bits per byte
          </label>
        </fieldset>
      </div>
      <p className="hint matrix-facts">
        {run.modelName}: {g.spec.method}, {structure}
        {g.spec.method === 'magnitude' ? '' : `, ${g.spec.nsamples} calibration windows`} of {g.spec.seqlen} tokens, {g.spec.evalMaxWindows ?? 'all'} evaluation windows per
        language; {fmtDuration(run.elapsedMs)}.
      </p>
      <div className="table-scroll">
        <table className="heatmap" aria-label={`Language matrix: ${metricName}`}>
          <thead>
            <tr>
              <th scope="col" className="heatmap-corner">
                calibration ↓ / evaluation →
              </th>
              {ev.map((l) => (
                <th key={l} scope="col">
                  {l}
                </th>
              ))}
              <th scope="col" className="heatmap-sparsity">
                sparsity
              </th>
            </tr>
          </thead>
          <tbody>
            <tr className="heatmap-dense" data-row="dense">
              <th scope="row">dense (no pruning)</th>
              {ev.map((l) => (
                <td key={l} data-col={l} title={`dense model, ${l}: perplexity ${fmtNum(g.dense[l].ppl)}, ${g.dense[l].tokens} tokens`}>
                  {fmtValue(value(g.dense[l], metric), metric)}
                </td>
              ))}
              <td className="heatmap-sparsity">0 %</td>
            </tr>
            {calib.map((c) => (
              <tr key={c} data-row={c}>
                <th scope="row">{c}</th>
                {ev.map((l) => {
                  const cell = g.rows[c][l];
                  const r = ratio(cell, l);
                  const isBest = best[l] === c;
                  const own = c === l;
                  return (
                    <td
                      key={l}
                      data-col={l}
                      className={`${isBest ? 'heatmap-best' : ''}${own ? ' heatmap-own' : ''}`.trim() || undefined}
                      style={heatColor(r, maxRatio)}
                      title={`${c} calibration, ${l} evaluation: perplexity ${fmtNum(cell.ppl)}, ×${Number.isFinite(r) ? r.toFixed(2) : '?'} the dense ${metricName}${isBest ? `; best calibration for ${l}` : ''}`}
                    >
                      <span className="heatmap-value">
                        {isBest && (
                          <span className="heatmap-star" aria-label={`best for ${l}`}>
                            ★{' '}
                          </span>
                        )}
                        {fmtValue(value(cell, metric), metric)}
                      </span>
                      <span className="heatmap-ratio">×{Number.isFinite(r) ? r.toFixed(2) : '?'}</span>
                    </td>
                  );
                })}
                <td className="heatmap-sparsity">{g.sparsity[c] === undefined ? '' : `${(g.sparsity[c] * 100).toFixed(1)} %`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="heatmap-legend" aria-hidden="true">
        <span>×1.00 the dense {metricName}</span>
        <span className="heatmap-legend-bar" style={{ background: `linear-gradient(to right, ${heatColor(1, maxRatio).background}, ${heatColor(Math.sqrt(maxRatio), maxRatio).background}, ${heatColor(maxRatio, maxRatio).background})` }} />
        <span>×{maxRatio.toFixed(2)}</span>
        <span className="heatmap-legend-note">★ best calibration for the column · outlined: own language</span>
      </div>
    </div>
  );
}
