import { useMemo } from 'react';
import type { ExperimentRecord, PerplexityResultRecord, PruneResultRecord, ResultRecord, SourceRef, TaskResultRecord } from '../../../../experiment/records';
import { OMITTED_TEXT, type OmittedDetail } from '../../../../experiment/share';
import { fmtBytes, fmtNum } from '../../../format';
import { ResultsView } from '../../experiment/ExperimentResults/ExperimentResults';
import { masksNote } from '../names';
import { recordToRun } from '../recordRun';
import { TaskResultHead, TaskScoreCells } from '../../tasks/TasksPanel/TaskResultTable';
import { PerplexityHead } from '../../perplexity/PerplexityPanel/PerplexityHead';
import { needsCalibration } from '../../../../engine';

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
        {needsCalibration(s.method) ? `, ${s.nsamples} calibration windows of ${s.seqlen} tokens` : ''}, evaluation windows of {s.evalSeqlen} tokens
        {s.evalMaxWindows ? ` (at most ${s.evalMaxWindows} per language)` : ''}
        {s.taskLimit && rec.columns.some((c) => c.tasks.length > 0) ? `, at most ${s.taskLimit} item${s.taskLimit === 1 ? '' : 's'} per task` : ''}
        {s.profile === 'owl' && s.owl ? `, OWL layer-wise sparsity (M ${s.owl.m}, λ ${s.owl.lambda})` : ''}
      </dd>
      <dt>Masks</dt>
      <dd data-field="masks">
        {s.instant
          ? `${masksNote(s)}: one calibration pass per seed collected every source's statistics and each row's masks were mixed from them${s.confirm ? "; each '(exact)' row is the exact sequential prune of the same mix" : ''}`
          : !needsCalibration(s.method)
            ? 'magnitude pruning (no calibration)'
            : 'one sequential prune per row and seed'}
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
                  {t.n !== null ? `, ${t.n} item${t.n === 1 ? '' : 's'}` : ''}
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

/** A perplexity record as the Perplexity panel's results table shows a row. */
function PerplexityTable({ rec }: { rec: PerplexityResultRecord }) {
  const r = rec.result;
  return (
    <div className="table-scroll">
      <table className="data-table rec-table" aria-label="Perplexity result">
        <PerplexityHead />
        <tbody>
          <tr data-label={r.language}>
            <td className="text">{rec.model.name}</td>
            <th scope="row">{rec.text.language ?? rec.text.name}</th>
            <td className="ppl-value" data-value={r.ppl}>
              {fmtNum(r.ppl)}
            </td>
            <td>{fmtNum(r.meanNll)}</td>
            <td data-value={r.bpb ?? ''}>{r.bpb === null ? '—' : fmtNum(r.bpb)}</td>
            <td>{r.tokens.toLocaleString()}</td>
            <td>
              {r.windows} × {rec.settings.seqlen}
              {rec.settings.stride ? ` (stride ${rec.settings.stride})` : ''}
            </td>
          </tr>
        </tbody>
      </table>
    </div>
  );
}

/** A task record as the Tasks panel's results table shows a row, with its warnings. */
function TaskTable({ rec }: { rec: TaskResultRecord }) {
  const r = rec.result;
  return (
    <>
      <div className="table-scroll">
        <table className="data-table rec-table" aria-label="Task result">
          <TaskResultHead />
          <tbody>
            <tr data-task={r.task} data-language={r.language}>
              <td className="text">{r.task}</td>
              <td className="text">{r.language}</td>
              <td className="text">{rec.model.name}</td>
              <TaskScoreCells r={r} />
            </tr>
          </tbody>
        </table>
      </div>
      {r.warnings.length > 0 && (
        <details>
          <summary>{r.warnings.length} warnings</summary>
          <ul>
            {r.warnings.slice(0, 50).map((w, i) => (
              <li key={i}>{w}</li>
            ))}
          </ul>
        </details>
      )}
    </>
  );
}

/** One value per layer and matrix (rows = layers, columns = the matrices in wanda's order). */
function LayerGrid({ label, matrices, values, fmt }: { label: string; matrices: string[]; values: (number | null)[][]; fmt: (v: number) => string }) {
  return (
    <div className="table-scroll">
      <table className="data-table rec-table" aria-label={label}>
        <thead>
          <tr>
            <th scope="col">layer</th>
            {matrices.map((m) => (
              <th key={m} scope="col">
                {m.replace(/^(self_attn|mlp)\./, '')}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {values.map((layer, l) => (
            <tr key={l}>
              <th scope="row">{l}</th>
              {layer.map((v, j) => (
                <td key={j} data-value={v ?? ''}>
                  {v === null ? '—' : fmt(v)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A prune record's report: overall sparsity, then sparsity (and reconstruction error, when measured) per layer and matrix. */
function PruneTable({ rec }: { rec: PruneResultRecord }) {
  return (
    <>
      <p className="rec-numbers">
        Overall sparsity <strong data-value={rec.overall}>{pct(rec.overall)}</strong> over {rec.sparsity.length} layers × {rec.matrices.length} matrices.
      </p>
      <LayerGrid label="Sparsity per matrix" matrices={rec.matrices} values={rec.sparsity} fmt={(v) => `${fmtNum(v * 100, 3)} %`} />
      {rec.recon && <LayerGrid label="Reconstruction error per matrix" matrices={rec.matrices} values={rec.recon} fmt={(v) => fmtNum(v, 3)} />}
    </>
  );
}

/** A result record's charts and tables: the experiment's heatmaps, or the numbers of a single run. */
export function RecordView({ rec, omitted = [], name }: { rec: ResultRecord; omitted?: OmittedDetail[]; name: string }) {
  const run = useMemo(() => (rec.kind === 'experiment' ? recordToRun(rec) : null), [rec]);
  return (
    <div className="rec-view" data-kind={rec.kind}>
      <Provenance rec={rec} omitted={omitted} />
      {run && <ResultsView run={run} name={name} />}
      {rec.kind === 'perplexity' && <PerplexityTable rec={rec} />}
      {rec.kind === 'task' && <TaskTable rec={rec} />}
      {rec.kind === 'prune' && <PruneTable rec={rec} />}
    </div>
  );
}
