import { useState } from 'react';
import { SOURCE_EXTENSIONS } from '../../../../calib/sources';
import { LANGID_CLEAR, LANGID_CLEAR_CHARS } from '../../../../calib/langid';
import { useAppStore, type CalibSource } from '../../../store';
import { addBundledSource, addMixSource, addSourceFiles, generateSource } from '../../../store/actions';
import { DEFAULT_GEN_CALIBRATION, GEN_PROMPTS } from '../../../../engine';
import { fmtBytes } from '../../../format';
import { HubCorpusPicker } from '../HubCorpusPicker/HubCorpusPicker';
import { useDropZone } from '../../../hooks/useDropZone';

/** Calibration sources: files (dropped or picked), bundled texts one click away, and mixes. */
export function SourceList() {
  const sources = useAppStore((s) => s.sources);
  const languages = useAppStore((s) => s.languages);
  const busy = useAppStore((s) => s.running !== null);
  const { dragging, handlers: drop } = useDropZone((data) => void addSourceFiles([...data.files]));
  const bundled = languages.state === 'ready' ? languages.languages : [];
  const have = new Set(sources.filter((s) => s.origin === 'bundled').map((s) => s.language));

  return (
    <fieldset className={`exp-sources${dragging ? ' dragging' : ''}`} {...drop}>
      <legend>Calibration sources (one pruned model each)</legend>
      <div className="row exp-add">
        <label className="button-like">
          Calibration files
          <input
            type="file"
            multiple
            accept={SOURCE_EXTENSIONS.join(',')}
            className="visually-hidden"
            onChange={(e) => {
              if (e.target.files?.length) void addSourceFiles([...e.target.files]);
              e.target.value = '';
            }}
          />
        </label>
        <span className="hint">or drop .txt / .md / .jsonl / .json / .csv files anywhere on the page.</span>
      </div>
      {bundled.length > 0 && (
        <div className="row exp-bundled" role="group" aria-label="Add bundled calibration text">
          <span className="hint">Bundled text:</span>
          {bundled.map((l) => (
            <button key={l} type="button" className="small" disabled={have.has(l)} onClick={() => void addBundledSource(l)} aria-label={`Add bundled ${l} calibration text`}>
              + {l}
            </button>
          ))}
        </div>
      )}
      <HubCorpusPicker />
      <GenerateControl languages={bundled} disabled={busy} />
      {sources.length === 0 ? (
        <p className="hint">No calibration sources yet.</p>
      ) : (
        <ul className="exp-source-list" aria-label="Calibration sources">
          {sources.map((s) => (
            <SourceItem key={s.id} src={s} all={sources} options={bundled} disabled={busy} />
          ))}
        </ul>
      )}
      <MixBuilder sources={sources.filter((s) => s.origin !== 'mix')} />
    </fieldset>
  );
}

function SourceItem({ src, all, options, disabled }: { src: CalibSource; all: CalibSource[]; options: string[]; disabled: boolean }) {
  const update = useAppStore((s) => s.updateSource);
  const remove = useAppStore((s) => s.removeSource);
  const langs = [...new Set([...options, ...(src.language && src.language !== 'mix' ? [src.language] : [])])].sort();
  const parts = src.parts?.map((p) => `${all.find((x) => x.id === p.id)?.name ?? '?'} ×${p.weight}`).join(' + ');
  return (
    <li className={`exp-source${src.language ? '' : ' exp-source-unknown'}`} data-source={src.name}>
      <label className="exp-source-use">
        <input type="checkbox" checked={src.selected} disabled={disabled} onChange={(e) => update(src.id, { selected: e.target.checked })} />
        <span className="visually-hidden">Use {src.name}</span>
      </label>
      <div className="exp-source-body">
        <div className="exp-source-head">
          <strong>{src.name}</strong>
          <span className="hint">
            {src.origin === 'mix'
              ? parts
              : `${fmtBytes(src.bytes)}${src.capped ? ` used of ${fmtBytes(src.fileBytes)} (start of the file)` : ''} · ${src.tokens === null ? '… tokens' : `${src.tokensEstimated ? '≈ ' : ''}${src.tokens.toLocaleString('en-US')} tokens`}${src.field ? ` · field "${src.field}"` : ''}${src.skipped ? ` · ${src.skipped} records skipped` : ''}`}
          </span>
        </div>
        {src.origin !== 'mix' && <p className="exp-source-preview">{src.preview}</p>}
        {src.origin === 'file' && src.detected && src.language === src.detected && src.confidence !== undefined && src.confidence < LANGID_CLEAR && (
          <p className="hint exp-source-unsure">
            Language detected as {src.detected}, but not clearly:{' '}
            {src.text.length < LANGID_CLEAR_CHARS ? `the text is short (${src.text.length.toLocaleString('en-US')} characters)` : `about ${Math.round(src.confidence * 100)} % of the text reads as ${src.detected}, so it may be mixed`}
            {src.alternatives?.length ? ` (also possible: ${src.alternatives.join(', ')})` : ''}. Check it.
          </p>
        )}
        {src.origin === 'file' && !src.language && <p className="hint exp-source-unsure">The language could not be identified: choose it.</p>}
      </div>
      {src.origin === 'mix' ? (
        <span className="badge">{src.language}</span>
      ) : (
        <label className="exp-source-lang">
          <span className="visually-hidden">Language of {src.name}</span>
          <select
            aria-label={`Language of ${src.name}`}
            value={src.language ?? ''}
            disabled={disabled}
            aria-invalid={src.language ? undefined : true}
            onChange={(e) => update(src.id, { language: e.target.value || null })}
          >
            <option value="">{src.detected ? '' : 'unknown: choose…'}</option>
            {langs.map((l) => (
              <option key={l} value={l}>
                {l}
                {src.detected === l && src.origin === 'file' ? ' (detected)' : ''}
              </option>
            ))}
          </select>
        </label>
      )}
      <button type="button" className="small" disabled={disabled} onClick={() => remove(src.id)} aria-label={`Remove ${src.name}`}>
        ✕
      </button>
    </li>
  );
}

/**
 * "Generate with the model": the active model writes a calibration source from a few words of a
 * language (or its BOS token alone), with the sampling and perplexity filter of Ji et al. (ICLR 2025).
 */
function GenerateControl({ languages, disabled }: { languages: string[]; disabled: boolean }) {
  const hasModel = useAppStore((s) => s.activeModelId !== null);
  const nsamples = useAppStore((s) => s.expNsamples);
  const seqlen = useAppStore((s) => s.expSeqlen);
  const options = [...new Set([...languages, ...Object.keys(GEN_PROMPTS)])].sort();
  const [language, setLanguage] = useState(options.includes('de') ? 'de' : (options[0] ?? 'en'));
  const [prompt, setPrompt] = useState<string | null>(null);
  const [bosOnly, setBosOnly] = useState(false);
  const words = prompt ?? GEN_PROMPTS[language] ?? '';
  const d = DEFAULT_GEN_CALIBRATION;
  return (
    <details className="exp-generate">
      <summary>Generate with the model…</summary>
      <p className="hint">
        The loaded model writes {Math.ceil(nsamples / d.keep)} windows of {seqlen} tokens from a few words of the language (or its BOS token alone) and keeps the {nsamples} it finds most likely: temperature {d.temperature}, top-k {d.topK}, top-p {d.topP}, repetition penalty {d.repetitionPenalty}, keeping {Math.round(d.keep * 100)} % (Ji et al., ICLR 2025), seed 0. The source records how, so re-runs and share links write the same text again.
      </p>
      <div className="row">
        <label>
          Language{' '}
          <select aria-label="Language to generate" value={language} disabled={disabled} onChange={(e) => { setLanguage(e.target.value); setPrompt(null); }}>
            {options.map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <label>
          Start from{' '}
          <input type="text" aria-label="Words to start from" value={bosOnly ? '' : words} placeholder={bosOnly ? 'the BOS token alone' : 'a few words'} disabled={disabled || bosOnly} onChange={(e) => setPrompt(e.target.value)} />
        </label>
        <label>
          <input type="checkbox" checked={bosOnly} disabled={disabled} onChange={(e) => setBosOnly(e.target.checked)} /> BOS token only
        </label>
        <button type="button" disabled={disabled || !hasModel || (!bosOnly && !words.trim())} onClick={() => void generateSource(language, bosOnly ? null : words)}>
          Generate with the model
        </button>
      </div>
    </details>
  );
}

/** Build a mix of sources with proportions (the share of calibration windows drawn from each). */
function MixBuilder({ sources }: { sources: CalibSource[] }) {
  const [weights, setWeights] = useState<Record<string, number>>({});
  if (sources.length < 2) return null;
  return (
    <details className="exp-mix">
      <summary>Make a mix of sources…</summary>
      <p className="hint">Give each part a proportion (0 leaves it out); e.g. 3 and 1 draw 75 % of the calibration windows from the first.</p>
      <div className="exp-mix-parts">
        {sources.map((s) => (
          <label key={s.id}>
            <span>{s.name}</span>
            <input type="number" min={0} step={1} aria-label={`Proportion of ${s.name}`} value={weights[s.id] ?? 0} onChange={(e) => setWeights({ ...weights, [s.id]: e.target.valueAsNumber })} />
          </label>
        ))}
      </div>
      <button
        type="button"
        onClick={() => {
          addMixSource(
            Object.entries(weights)
              .filter(([, w]) => w !== 0)
              .map(([id, weight]) => ({ id, weight })),
          );
          setWeights({});
        }}
      >
        Add mix
      </button>
    </details>
  );
}
