import { useState, type DragEvent } from 'react';
import { useAppStore } from '../../store';
import { measureAllLanguages, reportError, runPerplexity } from '../../store/actions';
import { fmtNum } from '../../format';
import { decodeTextFile } from '../../../common/text';
import { BitsPerByteChart } from '../../charts/BitsPerByteChart/LazyBitsPerByteChart';
import { Messages } from '../Messages/Messages';
import { OpProgress } from '../OpProgress/OpProgress';
import './PerplexityPanel.css';

/** Perplexity, mean NLL and bits per byte of the active model on bundled or own text. */
export function PerplexityPanel() {
  const hasModel = useAppStore((s) => s.models.some((m) => m.id === s.activeModelId));
  const busy = useAppStore((s) => s.running !== null);
  const languages = useAppStore((s) => s.languages);
  const canRunAll = languages.state === 'ready' && hasModel && !busy;
  return (
    <section className="panel ppl-panel" aria-labelledby="ppl-heading">
      <h2 id="ppl-heading">Perplexity</h2>
      <TextChooser />
      <Sizes />
      <div className="row actions">
        <button type="button" className="primary" disabled={!hasModel || busy} onClick={() => void runPerplexity()}>
          Measure
        </button>
        <button type="button" disabled={!canRunAll} onClick={() => void measureAllLanguages()}>
          Measure all languages
        </button>
        {!hasModel && <span className="hint">Load a model first.</span>}
      </div>
      <OpProgress panel="perplexity" />
      <Messages panel="perplexity" />
      <Results />
    </section>
  );
}

function TextChooser() {
  const languages = useAppStore((s) => s.languages);
  const source = useAppStore((s) => s.textSource);
  const setSource = useAppStore((s) => s.setTextSource);
  const customText = useAppStore((s) => s.customText);
  const customName = useAppStore((s) => s.customTextName);
  const setCustomText = useAppStore((s) => s.setCustomText);
  const [dragging, setDragging] = useState(false);
  const ready = languages.state === 'ready' ? languages.languages : [];
  const bundledLang = source.kind === 'bundled' ? source.language : (ready.includes('en') ? 'en' : ready[0]);

  const readFile = (f: File | undefined): void => {
    if (!f) return;
    f.arrayBuffer()
      .then((buf) => {
        const t = decodeTextFile(f.name, new Uint8Array(buf), { what: 'Text file' });
        setCustomText(t, f.name);
        setSource({ kind: 'custom' });
      })
      .catch((e: unknown) => reportError('perplexity', e));
  };
  const onDrop = (e: DragEvent): void => {
    e.preventDefault();
    setDragging(false);
    readFile(e.dataTransfer.files[0]);
  };

  return (
    <fieldset className="ppl-text">
      <legend>Text</legend>
      <div className="ppl-choice">
        <label>
          <input type="radio" name="ppl-source" checked={source.kind === 'bundled'} disabled={!ready.length} onChange={() => setSource({ kind: 'bundled', language: bundledLang })} />{' '}
          Bundled evaluation text
        </label>
        {languages.state === 'ready' && (
          <label className="inline-label">
            <span className="visually-hidden">Language</span>
            <select aria-label="Evaluation language" value={bundledLang} onChange={(e) => setSource({ kind: 'bundled', language: e.target.value })}>
              {ready.map((l) => (
                <option key={l} value={l}>
                  {l}
                </option>
              ))}
            </select>
          </label>
        )}
        {languages.state === 'loading' && <span className="hint">Looking for bundled texts…</span>}
      </div>
      {languages.state === 'missing' && (
        <p className="hint ppl-missing" role="note">
          {languages.message}
        </p>
      )}
      <div className="ppl-choice">
        <label>
          <input type="radio" name="ppl-source" checked={source.kind === 'custom'} onChange={() => setSource({ kind: 'custom' })} /> Your own text
        </label>
        <label className="button-like small">
          Open .txt…
          <input
            type="file"
            accept=".txt,text/plain"
            className="visually-hidden"
            onChange={(e) => {
              readFile(e.target.files?.[0]);
              e.target.value = '';
            }}
          />
        </label>
        {source.kind === 'custom' && customText && (
          <span className="hint">
            {customName}: {customText.length.toLocaleString()} characters
          </span>
        )}
      </div>
      <label htmlFor="ppl-custom" className="visually-hidden">
        Text to measure
      </label>
      <textarea
        id="ppl-custom"
        className={dragging ? 'dragging' : undefined}
        rows={4}
        placeholder="Paste text here, or drop a .txt file"
        value={customText}
        onChange={(e) => {
          setCustomText(e.target.value, 'pasted text');
          setSource({ kind: 'custom' });
        }}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      />
    </fieldset>
  );
}

function Sizes() {
  const seqlen = useAppStore((s) => s.seqlen);
  const maxWindows = useAppStore((s) => s.maxWindows);
  const setSeqlen = useAppStore((s) => s.setSeqlen);
  const setMaxWindows = useAppStore((s) => s.setMaxWindows);
  const maxPos = useAppStore((s) => s.models.find((m) => m.id === s.activeModelId)?.maxPositionEmbeddings);
  return (
    <div className="row ppl-sizes">
      <label>
        Sequence length{' '}
        <input type="number" min={2} max={maxPos} step={1} value={Number.isFinite(seqlen) ? seqlen : ''} onChange={(e) => setSeqlen(e.target.valueAsNumber)} />
      </label>
      <label>
        Max windows <input type="number" min={1} step={1} value={Number.isFinite(maxWindows) ? maxWindows : ''} onChange={(e) => setMaxWindows(e.target.valueAsNumber)} />
      </label>
      {maxPos !== undefined && <span className="hint">model context: {maxPos} tokens</span>}
    </div>
  );
}

function Results() {
  const modelId = useAppStore((s) => s.activeModelId);
  const models = useAppStore((s) => s.models);
  const all = useAppStore((s) => s.pplResults);
  const removeResult = useAppStore((s) => s.removePplResult);
  const results = all.filter((r) => r.modelId === modelId);
  // The chart compares every loaded model on the texts measured for the active one.
  const labels = new Set(results.map((r) => r.label));
  const nameOf = (id: string): string => models.find((m) => m.id === id)?.name ?? id;
  const chart = all.flatMap((r) =>
    r.result.bitsPerByte === null || !labels.has(r.label) || !models.some((m) => m.id === r.modelId)
      ? []
      : [{ label: r.label, model: nameOf(r.modelId), bitsPerByte: r.result.bitsPerByte }],
  );
  const chartModels = new Set(chart.map((d) => d.model)).size;
  if (!modelId || !results.length) return null;
  return (
    <div className="ppl-results">
      <table>
        <caption className="visually-hidden">Perplexity results of the active model</caption>
        <thead>
          <tr>
            <th scope="col">text</th>
            <th scope="col">perplexity</th>
            <th scope="col">
              <abbr title="mean negative log-likelihood per predicted token, in nats">mean NLL</abbr>
            </th>
            <th scope="col">bits per byte</th>
            <th scope="col">tokens</th>
            <th scope="col">bytes</th>
            <th scope="col">windows</th>
            <th scope="col">
              <span className="visually-hidden">remove</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {results.map(({ label, result: r }) => (
            <tr key={label} data-label={label}>
              <th scope="row">{label}</th>
              <td className="ppl-value">{fmtNum(r.ppl)}</td>
              <td>{fmtNum(r.meanNll)}</td>
              <td>{r.bitsPerByte === null ? '—' : fmtNum(r.bitsPerByte)}</td>
              <td>{r.tokens.toLocaleString()}</td>
              <td>{r.bytes ? r.bytes.toLocaleString() : '—'}</td>
              <td>
                {r.windows} × {r.seqlen}
                {r.stride ? ` (stride ${r.stride})` : ''}
              </td>
              <td>
                <button type="button" className="ppl-remove" aria-label={`Remove the row ${label}`} onClick={() => removeResult(modelId, label)}>
                  ×
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {(labels.size > 1 || chartModels > 1) && chart.length > 1 && <BitsPerByteChart data={chart} />}
    </div>
  );
}
