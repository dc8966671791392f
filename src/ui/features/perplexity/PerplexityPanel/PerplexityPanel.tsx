import { useAppStore } from '../../../store';
import { measureAllLanguages, reportError, runPerplexity } from '../../../store/actions';
import { fmtNum } from '../../../format';
import { decodeTextFile } from '../../../../common/text';
import { BitsPerByteChart } from '../../../charts/BitsPerByteChart/LazyBitsPerByteChart';
import { Messages } from '../../../components/Messages/Messages';
import { OpProgress } from '../../../components/OpProgress/OpProgress';
import { useDropZone } from '../../../hooks/useDropZone';
import { PerplexityHead } from './PerplexityHead';
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
  const ownTexts = useAppStore((s) => s.ownTexts);
  const addOwnTexts = useAppStore((s) => s.addOwnTexts);
  const ready = languages.state === 'ready' ? languages.languages : [];
  const bundledLang = source.kind === 'bundled' ? source.language : (ready.includes('en') ? 'en' : ready[0]);

  // Every file is kept as an own text; the first goes into the text area, the others are one choice away.
  // Binary, empty or non-UTF-8 files are refused with the same check the CLI uses.
  const readFiles = (files: File[]): void => {
    if (!files.length) return;
    Promise.all(files.map(async (f) => ({ name: f.name, text: decodeTextFile(f.name, new Uint8Array(await f.arrayBuffer()), { what: 'Text file' }) }))).then(addOwnTexts, (e: unknown) => reportError('perplexity', e));
  };
  const { dragging, handlers: drop } = useDropZone((data) => readFiles([...data.files]));

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
            multiple
            accept=".txt,.md,text/plain"
            className="visually-hidden"
            onChange={(e) => {
              readFiles([...(e.target.files ?? [])]);
              e.target.value = '';
            }}
          />
        </label>
        {ownTexts.length > 1 && (
          <select
            aria-label="Own text file"
            value={ownTexts.some((t) => t.name === customName) ? customName : ''}
            onChange={(e) => {
              const t = ownTexts.find((x) => x.name === e.target.value);
              if (t) {
                setCustomText(t.text, t.name);
                setSource({ kind: 'custom' });
              }
            }}
          >
            {!ownTexts.some((t) => t.name === customName) && <option value="">{customName}</option>}
            {ownTexts.map((t) => (
              <option key={t.name} value={t.name}>
                {t.name}
              </option>
            ))}
          </select>
        )}
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
        placeholder="Paste text here, or drop .txt files (each is kept)"
        value={customText}
        onChange={(e) => {
          setCustomText(e.target.value, 'pasted text');
          setSource({ kind: 'custom' });
        }}
        {...drop}
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
  const models = useAppStore((s) => s.models);
  const results = useAppStore((s) => s.pplResults);
  const clear = useAppStore((s) => s.clearPplResults);
  const removeResult = useAppStore((s) => s.removePplResult);
  if (!results.length) return null;
  // Every model's results side by side, labelled; a series is a model (plus its window settings
  // when one model was measured with several).
  const settingsOf = (r: (typeof results)[number]): string => `≤ ${r.maxWindows} × ${r.result.seqlen}${r.result.stride ? ` stride ${r.result.stride}` : ''}`;
  const perModel = new Map<string, Set<string>>();
  for (const r of results) perModel.set(r.modelId, (perModel.get(r.modelId) ?? new Set()).add(settingsOf(r)));
  const series = (r: (typeof results)[number]): string => `${r.modelName}${(perModel.get(r.modelId)?.size ?? 0) > 1 ? ` (${settingsOf(r)})` : ''}`;
  const chart = results.flatMap((r) => (r.result.bitsPerByte === null ? [] : [{ label: r.label, model: series(r), bitsPerByte: r.result.bitsPerByte }]));
  const nSeries = new Set(chart.map((d) => d.model)).size;
  const nLabels = new Set(chart.map((d) => d.label)).size;
  return (
    <div className="ppl-results">
      <table>
        <caption className="visually-hidden">Perplexity results of every model</caption>
        <PerplexityHead removable />
        <tbody>
          {results.map((rec) => {
            const r = rec.result;
            const loaded = models.some((m) => m.id === rec.modelId);
            return (
              <tr key={`${rec.modelId}|${rec.label}|${settingsOf(rec)}`} data-label={rec.label} data-model={rec.modelName}>
                <td className="text">
                  {rec.modelName}
                  {!loaded && <span className="hint"> (unloaded)</span>}
                </td>
                <th scope="row">{rec.label}</th>
                <td className="ppl-value">{fmtNum(r.ppl)}</td>
                <td>{fmtNum(r.meanNll)}</td>
                <td>{r.bitsPerByte === null ? '—' : fmtNum(r.bitsPerByte)}</td>
                <td>{r.tokens.toLocaleString()}</td>
                <td>
                  {r.windows} × {r.seqlen}
                  {r.stride ? ` (stride ${r.stride})` : ''}
                </td>
                <td>
                  <button type="button" className="ppl-remove" aria-label={`Remove the row ${rec.label} (${rec.modelName})`} onClick={() => removeResult(rec)}>
                    ×
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <div className="row">
        <button type="button" className="small" onClick={() => clear()}>
          Clear results
        </button>
      </div>
      {(nLabels > 1 || nSeries > 1) && chart.length > 1 && <BitsPerByteChart data={chart} />}
    </div>
  );
}
