import { useEffect, useState } from 'react';
import { KURZ2026, presetTasks } from '../../../../experiment/presets';
import { useAppStore } from '../../../store';
import { addHubSources, hubTextBytes } from '../../sources/actions';
import { fmtBytes } from '../../../format';
import { describeEstimate, estimateStudy, type StudyShape } from '../../../../experiment/estimate';
import { measureForwardRate, rateKey } from '../estimate';
import type { PruneMethod } from '../../../../engine';

/**
 * "Reproduce Kurz et al. (TACL 2026)": the study's design (src/experiment/presets.ts) shown with what
 * it will download and do before anything starts; every field editable. "Apply" fills the Experiment
 * panel (method, pattern, windows, seeds, evaluation languages, lm-eval tasks), puts the model id in the
 * Model panel's field and reads the mC4 calibration text of each language from the Hub.
 */
export function PresetCard() {
  const p = KURZ2026;
  const busy = useAppStore((s) => s.running !== null);
  const languages = useAppStore((s) => s.languages);
  const heldOut = languages.state === 'ready' ? languages.languages : [];
  const setExp = useAppStore((s) => s.setExp);
  const setModelUrl = useAppStore((s) => s.setModelUrl);
  const [open, setOpen] = useState(false);
  const [model, setModel] = useState(p.models.value[0]);
  const [method, setMethod] = useState<PruneMethod>(p.methods.value[0]);
  const [nm, setNm] = useState(false);
  const [langs, setLangs] = useState(p.languages.value.join(', '));
  const [nsamples, setNsamples] = useState(p.nsamples.value);
  const [seqlen, setSeqlen] = useState(p.seqlen.value);
  const [seeds, setSeeds] = useState(p.seeds.value.length);
  const list = langs
    .split(/[\s,]+/)
    .map((l) => l.trim())
    .filter(Boolean);
  const tasks = presetTasks(p, list);
  const items = tasks.reduce((a, t) => a + t.items, 0);
  const textBytes = list.length * hubTextBytes(nsamples, seqlen);
  const prunes = list.length * seeds;
  const evalLangs = list.filter((l) => heldOut.includes(l));
  // How long on this adapter: the run plan at the forward rate measured on the loaded model (the Experiment panel's estimate).
  const loaded = useAppStore((s) => s.models.find((m) => m.id === s.activeModelId));
  const key = useAppStore((s) => (loaded ? rateKey(s, loaded) : null));
  const rate = useAppStore((s) => (key && s.expRate?.key === key ? s.expRate.tokensPerMs : null));
  const evalWindows = useAppStore((s) => s.expEvalWindows);
  useEffect(() => {
    if (open && loaded && key && rate === null && !busy) void measureForwardRate(loaded);
  }, [open, loaded, key, rate, busy]);
  const shape: StudyShape = {
    rows: list.length,
    seeds: Number.isFinite(seeds) ? seeds : 1,
    method,
    calibrated: true,
    nsamples: Number.isFinite(nsamples) ? nsamples : 0,
    seqlen: Number.isFinite(seqlen) ? seqlen : 0,
    instant: false,
    confirm: false,
    columns: evalLangs.map((l) => ({ text: true, tasks: tasks.filter((t) => t.language === l).map((t) => t.items) })),
    evalWindows,
    evalSeqlen: Number.isFinite(seqlen) ? seqlen : 0,
  };
  const isPresetModel = loaded !== undefined && model.trim() !== '' && (loaded.source.includes(model.trim()) || loaded.name === model.trim());
  const timeLine = !loaded
    ? `Time on this adapter: load ${model} in the Model panel first; the estimate comes from a short forward pass measured on the loaded model.`
    : rate === null
      ? 'Time on this adapter: measuring the loaded model’s forward rate…'
      : isPresetModel
        ? `Time on this adapter: ${describeEstimate(estimateStudy(shape, rate), rate)}.`
        : `Time on this adapter: the rate is measured on the loaded model (${loaded.name}), not ${model}; with ${loaded.name} this design takes ${describeEstimate(estimateStudy(shape, rate), rate)}. Load ${model} for its own estimate.`;
  const apply = async (): Promise<void> => {
    setModelUrl(model);
    setExp({
      expMethod: method,
      expPattern: nm ? { kind: 'nm', n: 2, m: 4 } : { kind: 'unstructured', sparsity: 0.5 },
      expNsamples: nsamples,
      expSeqlen: seqlen,
      expSeedCount: seeds,
      expEvalLanguages: evalLangs,
      expHubTasks: tasks.map((t) => t.name),
      expEvalHub: p.evalText.value,
    });
    await addHubSources(p.calibCorpus.value, list);
  };
  return (
    <div className="exp-preset">
      <button type="button" className="small" aria-expanded={open} disabled={busy} onClick={() => setOpen((o) => !o)}>
        {p.title}
      </button>
      {open && (
        <div className="exp-preset-card" role="group" aria-label={p.title}>
          <p className="hint">
            The study&apos;s design (Kurz, Chen, Flek, Zhao, TACL 14, 2026; arXiv 2408.14398). Where each setting comes from, and which could not be checked against the paper: docs/data.md. Change anything before
            applying (a 1B model, fewer windows).
          </p>
          <div className="exp-settings-grid">
            <label className="field">
              Model (Hugging Face id)
              <input aria-label="Preset model" list="preset-models" value={model} onChange={(e) => setModel(e.target.value)} />
              <datalist id="preset-models">
                {p.models.value.map((m) => (
                  <option key={m} value={m} />
                ))}
              </datalist>
            </label>
            <label className="field">
              Method
              <select aria-label="Preset method" value={method} onChange={(e) => setMethod(e.target.value as PruneMethod)}>
                {p.methods.value.map((m) => (
                  <option key={m} value={m}>
                    {m}
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              Pattern
              <select aria-label="Preset pattern" value={nm ? '2:4' : '0.5'} onChange={(e) => setNm(e.target.value === '2:4')}>
                <option value="0.5">50 % unstructured</option>
                <option value="2:4">2:4</option>
              </select>
            </label>
            <label className="field">
              Calibration languages (mC4)
              <input aria-label="Preset languages" value={langs} onChange={(e) => setLangs(e.target.value)} />
            </label>
            <label className="field">
              Windows per language
              <input aria-label="Preset windows" type="number" min={1} value={nsamples} onChange={(e) => setNsamples(e.target.valueAsNumber)} />
            </label>
            <label className="field">
              Window length (tokens)
              <input aria-label="Preset window length" type="number" min={2} value={seqlen} onChange={(e) => setSeqlen(e.target.valueAsNumber)} />
            </label>
            <label className="field">
              Seeds
              <input aria-label="Preset seeds" type="number" min={1} max={10} value={seeds} onChange={(e) => setSeeds(e.target.valueAsNumber)} />
            </label>
          </div>
          <ul className="exp-preset-plan" aria-label="What the preset will download and do">
            <li>
              Downloads: the checkpoint of {model} (about 16 GB for an 8B model in BF16, unless cached), {fmtBytes(textBytes)} of mC4 calibration text ({list.length} languages), task data for{' '}
              {items.toLocaleString('en-US')} items ({tasks.length} lm-eval tasks).
            </li>
            <li>
              Work: {prunes} prunes ({list.length} languages × {seeds} seeds) of {nsamples} × {seqlen} tokens each, then perplexity and {items.toLocaleString('en-US')} task items per model.
            </li>
            <li data-testid="preset-estimate">{timeLine}</li>
            <li>
              Held-out perplexity text: {p.evalText.value.replace('{lang}', '<lang>')} from the Hub for {evalLangs.join(', ') || 'no language'} (the evaluation languages this page has). Difference from the study here: the page&apos;s seeds are 0…{seeds - 1} (the study: {p.seeds.value.join(', ')}; use <code>polyprune grid --preset kurz2026</code>).
            </li>
          </ul>
          <button type="button" disabled={busy || list.length === 0} onClick={() => void apply()}>
            Apply (reads the calibration text from the Hub)
          </button>
        </div>
      )}
    </div>
  );
}
