import { useAppStore } from '../../../store';
import { exportActiveModel } from '../../../store/actions';
import { fmtBytes, fmtDuration, fmtNum } from '../../../format';
import { zipFileName } from '../../../download';
import { LayerSparsityChart } from '../../../charts/LayerSparsityChart/LazyLayerSparsityChart';
import './PruneReportView.css';

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
const ms = (x: number): string => (x < 1000 ? `${Math.round(x)} ms` : fmtDuration(x));

/** The pruning report of the active model (if it is a pruned copy) and its download as a zip. */
export function PruneReportView() {
  const model = useAppStore((s) => s.models.find((m) => m.id === s.activeModelId));
  const report = useAppStore((s) => (s.activeModelId ? s.pruneReports[s.activeModelId] : undefined));
  const busy = useAppStore((s) => s.running !== null);
  if (!model?.prunedFrom) return null;
  const layers = report?.timings.perLayerMs ?? [];
  const meanLayer = layers.length ? layers.reduce((a, b) => a + b, 0) / layers.length : 0;
  const lp = report?.layerProfile?.profile === 'owl' ? report.layerProfile : null;
  const achieved = report ? layerSparsityOf(report.perMatrix) : [];
  const target = lp ? lp.target.reduce((a, b) => a + b, 0) / lp.target.length : 0;
  return (
    <div className="prune-report" aria-label="Pruning report">
      <div className="prune-report-head">
        <h3>{model.name}</h3>
        <button type="button" className="primary" disabled={busy} onClick={() => void exportActiveModel('hf', 'zip')} title={`Saves ${zipFileName(model.name)}: config.json, model.safetensors, tokenizer files, pruning.json`}>
          Download pruned model
        </button>
      </div>
      {report ? (
        <>
          <dl className="facts prune-report-facts">
            <dt>method</dt>
            <dd>
              {report.method}, {report.structure}
            </dd>
            <dt>overall sparsity</dt>
            <dd className="prune-report-overall">{pct(report.overall)}</dd>
            <dt>matrices pruned</dt>
            <dd>{report.perMatrix.length}</dd>
            <dt>time</dt>
            <dd>
              {ms(report.timings.totalMs)} (forward passes {ms(report.timings.forwardMs)}, scoring and updates {ms(report.timings.scoringMs)})
            </dd>
            {layers.length > 0 && (
              <>
                <dt>per layer</dt>
                <dd>
                  {ms(meanLayer)} on average, slowest {ms(Math.max(...layers))}
                </dd>
              </>
            )}
            <dt>peak GPU memory</dt>
            <dd>{fmtBytes(report.peakGpuBytes)}</dd>
            {lp && (
              <>
                <dt>layer-wise sparsity</dt>
                <dd className="prune-report-owl">
                  OWL, M {lp.m}, λ {lp.lambda}: {pct(Math.min(...lp.target))} to {pct(Math.max(...lp.target))}
                </dd>
              </>
            )}
            {report.languageAware && (
              <>
                <dt>language-aware</dt>
                <dd>
                  β {report.languageAware.beta}, one statistic per source: {report.languageAware.sources.map((x) => `${x.name}${x.language ? ` (${x.language})` : ''}, ${x.samples} windows`).join('; ')}
                </dd>
              </>
            )}
          </dl>
          {lp && (
            <>
              <LayerSparsityChart series={[{ name: 'reached', values: achieved }, { name: 'OWL target', values: lp.target }]} target={target} />
              <details className="prune-report-layers">
                <summary>Sparsity per layer ({lp.target.length})</summary>
                <table className="data-table">
                  <thead>
                    <tr>
                      <th scope="col">layer</th>
                      <th scope="col">outlier ratio</th>
                      <th scope="col">OWL target</th>
                      <th scope="col">reached</th>
                    </tr>
                  </thead>
                  <tbody>
                    {lp.target.map((t, i) => (
                      <tr key={i}>
                        <th scope="row">{i}</th>
                        <td>{fmtNum(lp.outlierRatio[i])} %</td>
                        <td>{fmtNum(t * 100)} %</td>
                        <td>{fmtNum((achieved[i] ?? NaN) * 100)} %</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </details>
            </>
          )}
          <details className="prune-report-matrices">
            <summary>Sparsity per matrix ({report.perMatrix.length})</summary>
            <div className="table-scroll">
              <table className="data-table">
                <thead>
                  <tr>
                    <th scope="col">layer</th>
                    <th scope="col" className="text">
                      matrix
                    </th>
                    <th scope="col">shape</th>
                    <th scope="col">zeros</th>
                    <th scope="col">sparsity</th>
                  </tr>
                </thead>
                <tbody>
                  {report.perMatrix.map((m) => (
                    <tr key={m.tensor}>
                      <td>{m.layer}</td>
                      <th scope="row">{m.name}</th>
                      <td>
                        {m.shape[0]} × {m.shape[1]}
                      </td>
                      <td>{m.zeros.toLocaleString()}</td>
                      <td>{fmtNum(m.sparsity * 100)} %</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </details>
        </>
      ) : (
        <p className="hint">This pruned model was made outside this page; its report is in pruning.json inside the download.</p>
      )}
    </div>
  );
}

/** Zeros over weights of each decoder layer. */
function layerSparsityOf(perMatrix: readonly { layer: number; zeros: number; numel: number }[]): number[] {
  const z: number[] = [];
  const n: number[] = [];
  for (const m of perMatrix) {
    z[m.layer] = (z[m.layer] ?? 0) + m.zeros;
    n[m.layer] = (n[m.layer] ?? 0) + m.numel;
  }
  return Array.from(n, (k, i) => (k ? z[i] / k : NaN));
}
