import { useId, useState } from 'react';
import type { ExperimentRecord, ResultRecord, SourceRef } from '../../../experiment/records';
import { meanSpread } from '../../../experiment/records';
import { OMITTED_TEXT, type OmittedDetail } from '../../../experiment/share';
import { fmtBytes, fmtNum } from '../../format';
import { ExperimentHeatmap, type HeatMetric } from '../ExperimentHeatmap/ExperimentHeatmap';
import { LayerChart, MaskChart, ResultTable } from '../ExperimentResults/ExperimentResults';
import { recordTasks, recordToRun } from './recordRun';

const short = (h: string): string => `${h.slice(0, 12)}…`;
const pct = (x: number): string => `${fmtNum(x * 100, 3)} %`;

function Ref({ r }: { r: SourceRef }) {
  return (
    <span className="rec-ref">
      {r.name}
      {r.language ? ` (${r.language})` : ''}, {fmtBytes(r.bytes)}, SHA-256 <code title={r.sha256}>{short(r.sha256)}</code>
      {r.weight !== undefined ? `, weight ${r.weight}` : ''}
    </span>
  );
}

/** Where a result came from: model, settings, seeds, texts, adapter, PolyPrune version. */
export function Provenance({ rec, omitted = [] }: { rec: ResultRecord; omitted?: OmittedDetail[] }) {
  return (
    <dl className="rec-provenance" aria-label="Provenance">
      <dt>Model</dt>
      <dd>
        <span data-field="model-name">{rec.model.name}</span> from <span data-field="model-source">{rec.model.source}</span>, content SHA-256{' '}
        <code title={rec.model.sha256} data-field="model-sha256">
          {short(rec.model.sha256)}
        </code>
      </dd>
      {rec.kind === 'experiment' && <ExperimentSettings rec={rec} />}
      {rec.kind === 'prune' && (
        <>
          <dt>Settings</dt>
          <dd>
            {rec.spec.method}, {rec.spec.nm ? `${rec.spec.nm.n}:${rec.spec.nm.m}` : pct(rec.spec.sparsity)}, {rec.spec.nsamples ?? 0} windows of {rec.spec.seqlen ?? 0} tokens, seed {rec.spec.seed ?? '—'}
          </dd>
          <dt>Calibration</dt>
          <dd>
            {rec.calibration.length ? (
              <ul>
                {rec.calibration.map((c) => (
                  <li key={c.sha256}>
                    <Ref r={c} />
                  </li>
                ))}
              </ul>
            ) : (
              'none (magnitude)'
            )}
          </dd>
        </>
      )}
      {rec.kind === 'perplexity' && (
        <>
          <dt>Text</dt>
          <dd>
            <Ref r={rec.text} />; windows of {rec.settings.seqlen} tokens{rec.settings.maxWindows ? `, at most ${rec.settings.maxWindows}` : ''}
          </dd>
        </>
      )}
      {rec.kind === 'task' && (
        <>
          <dt>Task</dt>
          <dd>
            {rec.settings.task} ({rec.settings.language}), <Ref r={rec.file} />
          </dd>
        </>
      )}
      <dt>Measured</dt>
      <dd>
        {new Date(rec.created).toLocaleString()} on <span data-field="adapter">{rec.adapter}</span>, PolyPrune <span data-field="tool-version">{rec.tool.version}</span>
      </dd>
      {omitted.length > 0 && (
        <>
          <dt>Not in the link</dt>
          <dd>{omitted.map((o) => OMITTED_TEXT[o]).join(', ')} (left out to fit the link; the results are complete)</dd>
        </>
      )}
    </dl>
  );
}

function ExperimentSettings({ rec }: { rec: ExperimentRecord }) {
  const s = rec.spec;
  return (
    <>
      <dt>Settings</dt>
      <dd data-field="settings">
        {s.method}, {s.nm ? `${s.nm.n}:${s.nm.m}` : `${fmtNum(s.sparsity * 100, 3)} % unstructured`}
        {s.method === 'magnitude' ? '' : `, ${s.nsamples} calibration windows of ${s.seqlen} tokens`}, evaluation windows of {s.evalSeqlen} tokens
        {s.evalMaxWindows ? ` (at most ${s.evalMaxWindows} per language)` : ''}
        {s.taskLimit ? `, at most ${s.taskLimit} items per task` : ''}
      </dd>
      <dt>Seeds</dt>
      <dd data-field="seeds">{s.seeds.join(', ')}</dd>
      <dt>Calibration</dt>
      <dd>
        <ul>
          {rec.rows.slice(1).map((r, i) => (
            <li key={i}>
              <strong>{r.label}</strong>: {r.sources.length ? r.sources.map((x, j) => <Ref key={j} r={x} />) : 'no calibration text'}
            </li>
          ))}
        </ul>
      </dd>
      <dt>Evaluation</dt>
      <dd>
        <ul>
          {rec.columns.map((c) => (
            <li key={c.language}>
              <strong>{c.language}</strong>: {c.text ? <Ref r={c.text} /> : 'no held-out text'}
              {c.tasks.map((t, j) => (
                <span key={j}>
                  ; {t.task} <Ref r={t.file} />
                  {t.n !== null ? `, ${t.n} items` : ''}
                </span>
              ))}
            </li>
          ))}
        </ul>
      </dd>
      {!rec.complete && (
        <>
          <dt>Status</dt>
          <dd>incomplete{rec.note ? `: ${rec.note}` : ''}</dd>
        </>
      )}
    </>
  );
}

function ExperimentCharts({ rec }: { rec: ExperimentRecord }) {
  const run = recordToRun(rec);
  return (
    <>
      <LayerChart traces={run.layerTraces} rows={run.rows} />
      <MaskChart run={run} />
      <ResultTable run={run} />
    </>
  );
}

/** A result record's charts and tables: the experiment's heatmaps, or the numbers of a single run. */
export function RecordView({ rec, omitted = [], name }: { rec: ResultRecord; omitted?: OmittedDetail[]; name: string }) {
  const [metric, setMetric] = useState<'ppl' | 'bpb'>('ppl');
  const group = useId();
  return (
    <div className="rec-view" data-kind={rec.kind}>
      <Provenance rec={rec} omitted={omitted} />
      {rec.kind === 'experiment' && (
        <>
          <div className="row rec-metric">
            <label>
              <input type="radio" name={group} aria-label={`Show perplexity (${name})`} checked={metric === 'ppl'} onChange={() => setMetric('ppl')} /> perplexity
            </label>
            <label>
              <input type="radio" name={group} aria-label={`Show bits per byte (${name})`} checked={metric === 'bpb'} onChange={() => setMetric('bpb')} /> bits per byte
            </label>
          </div>
          <ExperimentHeatmap run={recordToRun(rec)} metric={{ kind: metric } as HeatMetric} />
          {recordTasks(rec).map((t) => (
            <div key={t.key}>
              <h4>{t.label} accuracy</h4>
              <ExperimentHeatmap run={recordToRun(rec)} metric={{ kind: 'task', key: t.key, label: t.label }} />
            </div>
          ))}
          <ExperimentCharts rec={rec} />
          <p className="hint">
            Sparsity reached:{' '}
            {rec.rows
              .slice(1)
              .map((r) => `${r.label} ${meanSpread(r.sparsity) ? pct(meanSpread(r.sparsity)!.mean) : '—'}`)
              .join(', ')}
            .
          </p>
        </>
      )}
      {rec.kind === 'perplexity' && (
        <p className="rec-numbers">
          Perplexity <strong>{fmtNum(rec.result.ppl)}</strong>, bits per byte {rec.result.bpb === null ? 'n/a' : rec.result.bpb.toFixed(4)}, mean NLL {rec.result.meanNll.toFixed(4)} ({rec.result.tokens} tokens, {rec.result.windows} windows)
        </p>
      )}
      {rec.kind === 'task' && (
        <p className="rec-numbers">
          acc <strong>{pct(rec.result.acc)}</strong> ± {pct(rec.result.acc_stderr ?? 0)} ({rec.result.n} items)
        </p>
      )}
      {rec.kind === 'prune' && (
        <p className="rec-numbers">
          Overall sparsity <strong>{pct(rec.overall)}</strong> over {rec.sparsity.length} layers × {rec.matrices.length} matrices.
        </p>
      )}
    </div>
  );
}
