import { useEffect } from 'react';
import { useAppStore } from '../../../store';
import { chooseMixMethod, setMixQuantizer, collectMixStats, confirmCurrentMix, denseBaseOf, forgetMixStats, keepCurrentMix, mixableSources, refreshStoredMixStats, reuseMixStats, setMixWeight } from '../../../store/actions';
import { LanguagePicker } from '../../../components/LanguagePicker/LanguagePicker';
import { Messages } from '../../../components/Messages/Messages';
import { OpProgress } from '../../../components/OpProgress/OpProgress';
import { fmtBytes } from '../../../format';
import { GPTQ_BITS, LINEAR_MATRICES, METHODS, MIX_METHODS, isMixMethod, methodSpec, mixStatsBytes, sharesMixStatistics, type MixMethod } from '../../../../engine';
import './MixerPanel.css';

/** What a collection of `m`'s statistics holds, naming every mixer method it serves ("Hessians (SparseGPT, GPTQ)"). */
function statisticsLabel(m: MixMethod): string {
  const served = MIX_METHODS.filter((x) => sharesMixStatistics(x, m));
  if (served.length > 1) return `${METHODS[m].statistic === 'hessian' ? 'Hessians' : 'Statistics'} (${served.map((x) => METHODS[x].label).join(', ')})`;
  return METHODS[m].mixer.supported ? METHODS[m].mixer.statistics : m;
}

const fmt = (x: number | undefined): string => (x === undefined ? '–' : x.toFixed(3));
const pct = (x: number): string => `${(x * 100).toFixed(0)} %`;
const fmtMiB = (n: number): string => fmtBytes(n, { unit: 'MiB', digits: n < 2 ** 20 ? 2 : 1 });

/**
 * Calibration mixer: one calibration pass per set of sources, then sliders (weights summing to 1)
 * re-derive the Wanda masks (or the SparseGPT prune, or GPTQ's quantized weights, from the mixed
 * per-source Hessians) from the mixed statistics without a forward pass; perplexity per evaluation
 * language follows. Confirm runs the exact sequential prune (quantize) and shows per-layer IoU (GPTQ:
 * the share of equal integer codes).
 */
export function MixerPanel() {
  const languages = useAppStore((s) => s.languages);
  const sources = useAppStore((s) => s.mixSources);
  const evalLangs = useAppStore((s) => s.mixEvalLangs);
  const samples = useAppStore((s) => s.mixSamples);
  const weights = useAppStore((s) => s.mixWeights);
  const stats = useAppStore((s) => s.mixStats);
  const dense = useAppStore((s) => s.mixDense);
  const update = useAppStore((s) => s.mixUpdate);
  const confirm = useAppStore((s) => s.mixConfirm);
  const busy = useAppStore((s) => s.mixBusy);
  const busyText = useAppStore((s) => s.mixBusyText);
  const pattern = useAppStore((s) => s.prunePattern);
  const seqlen = useAppStore((s) => s.mixSeqlen);
  const evalWindows = useAppStore((s) => s.mixEvalWindows);
  const running = useAppStore((s) => s.running !== null);
  const hasModel = useAppStore((s) => s.models.some((m) => m.id === s.activeModelId));
  const activeSha = useAppStore((s) => s.models.find((m) => m.id === s.activeModelId)?.sha256 ?? null);
  const stored = useAppStore((s) => s.mixStored);
  const expSources = useAppStore((s) => s.sources);
  const ownChosen = useAppStore((s) => s.mixOwnSources);
  const own = mixableSources(expSources);
  const origin = useAppStore((s) => s.mixStatsOrigin);
  const method = useAppStore((s) => s.mixMethod);
  const bits = useAppStore((s) => s.mixBits);
  const groupSize = useAppStore((s) => s.mixGroupSize);
  // a quantizing method (GPTQ): bits and group size instead of the Prune panel's sparsity
  const quantizes = !!methodSpec(method).quantizes;
  const active = useAppStore((s) => s.models.find((m) => m.id === s.activeModelId) ?? null);
  // The mixer always works from the dense model: the active one, or the one it was pruned from.
  const base = useAppStore((s) => denseBaseOf(s.models, s.activeModelId) ?? null);
  const statsModel = useAppStore((s) => (s.mixStats ? (s.models.find((m) => m.id === s.mixStats!.modelId) ?? null) : null));
  useEffect(() => {
    void refreshStoredMixStats();
  }, [activeSha, base?.id]);
  const { setMixSources, setMixOwnSources, setMixEvalLangs, setMixSamples, setMixSeqlen, setMixEvalWindows } = useAppStore.getState();
  const nSources = sources.length + own.filter((x) => ownChosen.includes(x.id)).length;
  const plannedBytes = base && nSources > 0 && Number.isInteger(samples) && samples >= 1 ? mixStatsBytes(base, method, Array.from({ length: nSources }, () => samples)) : null;
  const hessians = METHODS[method].statistic === 'hessian';
  const sizeText = plannedBytes === null ? '' : `${hessians ? `${nSources} source${nSources === 1 ? '' : 's'} x ${base!.numLayers} layers x 4 Hessians` : `${nSources * samples} windows x ${base!.numLayers} layers`}: ${fmtMiB(plannedBytes)} on the GPU (and in the browser's storage).`;
  const baseText = !active
    ? ''
    : base
      ? base.id === active.id
        ? `Statistics are collected on the active model ${base.name} (dense).`
        : `Statistics are collected on the dense model ${base.name}, not on the active pruned model ${active.name}.`
      : `The active model ${active.name} is pruned and the dense model it comes from is not loaded: load the dense model to collect statistics.`;
  const options = (languages.state === 'ready' ? languages.languages : []).map((code) => ({ code }));
  const patternText = quantizes ? `${METHODS[method].label} ${bits}-bit, ${groupSize === -1 ? 'per channel' : `groups of ${groupSize}`} (below)` : `${pattern.kind === 'nm' ? `${pattern.n}:${pattern.m}` : `${pct(pattern.sparsity)} unstructured`} (Prune panel)`;
  // statistics held for another statistic (Wanda's norms, the menu now at GPTQ): collect again
  const statsServe = !stats || sharesMixStatistics(stats.method, method);
  const derived = update?.method ?? stats?.method ?? method;
  const derivedQuantizes = !!methodSpec(derived).quantizes;
  const confirmStale = confirm && stats && weights.some((w, i) => Math.abs(w - (confirm.weights[i] ?? -1)) > 1e-9);

  return (
    <section className="panel mixer-panel" aria-labelledby="mixer-heading">
      <h2 id="mixer-heading">Calibration mixer</h2>
      <p className="hint">
        Wanda, SparseGPT or GPTQ with a mix of calibration languages: one pass collects each language&apos;s statistics on the dense model (Wanda: input norms per window; SparseGPT and GPTQ: one Hessian per language, layer and input group, the same for both), then every slider move re-derives the masks (GPTQ: the quantized weights) from the mixed statistics without running the model, and perplexity follows. That approximates the sequential run (where each layer sees the already pruned or quantized layers; SparseGPT&apos;s and GPTQ&apos;s also ignore the weight updates of earlier layers); Confirm runs the exact one and shows how far apart they are. Method: {patternText}.
      </p>
      {baseText && (
        <p className="hint" data-testid="mixer-base">
          {baseText}
        </p>
      )}
      <div className="mixer-setup">
        <LanguagePicker legend="Bundled calibration languages to mix" options={options} selected={sources} onChange={setMixSources} disabled={running} />
        <fieldset className="mixer-own">
          <legend>Your calibration sources</legend>
          {own.length === 0 ? (
            <p className="hint">Add files in the Experiment panel (Calibration files, or drop them on the page) to mix them here.</p>
          ) : (
            own.map((x) => (
              <label key={x.id}>
                <input type="checkbox" checked={ownChosen.includes(x.id)} disabled={running} onChange={(e) => setMixOwnSources(e.target.checked ? [...ownChosen, x.id] : ownChosen.filter((id) => id !== x.id))} /> {x.name}
                {x.language ? ` (${x.language})` : ''}
              </label>
            ))
          )}
        </fieldset>
        <LanguagePicker legend="Evaluation languages" options={options} selected={evalLangs} onChange={setMixEvalLangs} disabled={running} />
        <label className="mixer-field">
          Method
          <select aria-label="Mixer method" value={method} disabled={running} onChange={(e) => chooseMixMethod(isMixMethod(e.target.value) ? e.target.value : MIX_METHODS[0])}>
            {MIX_METHODS.map((m) => (
              <option key={m} value={m}>
                {METHODS[m].label}
              </option>
            ))}
          </select>
        </label>
        {quantizes && (
          <label className="mixer-field">
            Bits
            <select aria-label="Mixer bits" value={bits} disabled={running} onChange={(e) => setMixQuantizer({ bits: Number(e.target.value) })}>
              {GPTQ_BITS.map((b) => (
                <option key={b} value={b}>
                  {b}
                </option>
              ))}
            </select>
          </label>
        )}
        {quantizes && (
          <label className="mixer-field">
            Group size (-1: per channel)
            <input type="number" aria-label="Mixer group size" min={-1} step={1} value={Number.isFinite(groupSize) ? groupSize : ''} disabled={running} onChange={(e) => setMixQuantizer({ groupSize: e.target.valueAsNumber })} />
          </label>
        )}
        <label className="mixer-field">
          Windows per source
          <input type="number" min={1} step={1} value={Number.isFinite(samples) ? samples : ''} disabled={running} onChange={(e) => setMixSamples(e.target.valueAsNumber)} />
        </label>
        <label className="mixer-field">
          Tokens per window
          <input type="number" min={2} step={1} value={Number.isFinite(seqlen) ? seqlen : ''} disabled={running} onChange={(e) => setMixSeqlen(e.target.valueAsNumber)} />
        </label>
        <label className="mixer-field">
          Evaluation windows
          <input type="number" min={1} step={1} value={Number.isFinite(evalWindows) ? evalWindows : ''} disabled={running} onChange={(e) => setMixEvalWindows(e.target.valueAsNumber)} />
        </label>
      </div>
      {sizeText && (
        <p className="hint" data-testid="mixer-size">
          Statistics to collect ({METHODS[method].label}), {sizeText}
        </p>
      )}
      <p className="hint" data-testid="mixer-eval">
        After each update: perplexity on {Number.isFinite(evalWindows) ? evalWindows : '?'} windows x {Number.isFinite(seqlen) ? seqlen : '?'} tokens per evaluation language ({evalLangs.length} language{evalLangs.length === 1 ? '' : 's'}).
      </p>
      <div className="row actions">
        <button type="button" className="primary" disabled={!hasModel || running} onClick={() => void collectMixStats()}>
          {stats ? 'Collect again' : 'Collect statistics'}
        </button>
        <button type="button" disabled={!stats || !statsServe || running} onClick={() => void confirmCurrentMix()}>
          {quantizes ? 'Confirm (exact sequential quantize)' : 'Confirm (exact sequential prune)'}
        </button>
      </div>
      {!statsServe && stats && (
        <p className="hint error" data-testid="mixer-method-stats">
          The statistics held are {METHODS[stats.method].mixer.supported ? METHODS[stats.method].mixer.statistics : stats.method}; {METHODS[method].label} needs {METHODS[method].mixer.supported ? METHODS[method].mixer.statistics : method}: collect again.
        </p>
      )}
      {stored.length > 0 && (
        <div className="mixer-stored" data-testid="mixer-stored">
          <p className="hint">Statistics of this model kept in the browser from an earlier collection: reuse them without a calibration pass.</p>
          <ul>
            {stored.map((m) => {
              const what = `${m.sources.map((x) => `${x.windows} ${x.name}`).join(' + ')} windows of ${m.seqlen} tokens, ${statisticsLabel(m.method ?? MIX_METHODS[0])}`;
              return (
                <li key={m.key}>
                  {what}, seed {m.seed ?? '–'}, {fmtBytes(m.bytes, { unit: 'MiB', digits: 2 })}, saved {new Date(m.savedAt).toLocaleString()}{' '}
                  <button type="button" disabled={!hasModel || running} aria-label={`Reuse stored statistics: ${what}`} onClick={() => void reuseMixStats(m.key)}>
                    Reuse
                  </button>{' '}
                  <button type="button" disabled={running} aria-label={`Delete stored statistics: ${what}`} onClick={() => void forgetMixStats(m.key)}>
                    Delete
                  </button>
                </li>
              );
            })}
          </ul>
        </div>
      )}
      <OpProgress panel="mixer" />
      <Messages panel="mixer" />
      {stats && (
        <>
          <p className="hint" data-testid="mixer-stats">
            {statisticsLabel(stats.method)} of {stats.sources.map((s) => `${s.windows} ${s.name}`).join(' + ')} windows of {stats.seqlen} tokens on {statsModel ? statsModel.name : 'the dense model'} (dense), {fmtBytes(stats.gpuBytes, { unit: 'MiB', digits: 2 })} on the GPU, {origin === 'stored' ? `loaded from the browser's storage in ${(stats.collectMs / 1000).toFixed(1)} s (no calibration pass).` : `collected in ${(stats.collectMs / 1000).toFixed(1)} s.`}
          </p>
          <div className="mixer-sliders" role="group" aria-label="Mix weights (sum 1)">
            {stats.sources.map((s, i) => (
              <div className="mixer-slider" key={s.name}>
                <label htmlFor={`mix-range-${s.name}`}>{s.name}</label>
                <input id={`mix-range-${s.name}`} type="range" min={0} max={1} step={0.01} value={weights[i] ?? 0} disabled={running} onChange={(e) => setMixWeight(i, e.target.valueAsNumber)} />
                <input type="number" aria-label={`weight of ${s.name}`} min={0} max={1} step={0.01} value={Number((weights[i] ?? 0).toFixed(4))} disabled={running} onChange={(e) => setMixWeight(i, e.target.valueAsNumber)} />
              </div>
            ))}
          </div>
          <p className="hint" aria-live="polite" data-testid="mixer-timing">
            {busy ? `Updating…${busyText ? ` ${busyText}` : ''}` : update && derivedQuantizes ? `Last update: ${METHODS[derived].label} ${update.quantize?.bits ?? '?'}-bit ${update.quantize?.groupSize === -1 ? 'per channel' : `g${update.quantize?.groupSize ?? '?'}`} ${update.maskMs.toFixed(0)} ms, with perplexity ${update.totalMs.toFixed(0)} ms (no forward pass over the calibration text). Mix the Hessians ${update.phases.mixMs.toFixed(0)} ms, restore and GPTQ solve ${update.phases.selectMs.toFixed(0)} ms, record ${update.phases.recordMs.toFixed(0)} ms.` : update ? `Last update: masks ${update.maskMs.toFixed(0)} ms, with perplexity ${update.totalMs.toFixed(0)} ms (no forward pass over the calibration text). Sparsity ${(update.overall * 100).toFixed(2)} %. ${METHODS[stats.method].statistic === 'hessian' ? `Masks: mix the Hessians ${update.phases.mixMs.toFixed(0)} ms, restore and SparseGPT solve ${update.phases.selectMs.toFixed(0)} ms, record ${update.phases.recordMs.toFixed(0)} ms.` : `Masks: mix and read back ${update.phases.mixMs.toFixed(0)} ms, sqrt ${update.phases.sqrtMs.toFixed(0)} ms, restore and select ${update.phases.selectMs.toFixed(0)} ms, record ${update.phases.recordMs.toFixed(0)} ms.`}` : ''}
          </p>
          <div className="row actions">
            <button type="button" disabled={!update || busy || running} onClick={() => void keepCurrentMix()}>
              Make this mix the active model
            </button>
          </div>
          <table className="mixer-table" data-testid="mixer-ppl">
            <caption>Perplexity per evaluation language</caption>
            <thead>
              <tr>
                <th scope="col">Language</th>
                <th scope="col">Dense</th>
                <th scope="col">Instant mix</th>
                {confirm && <th scope="col">Confirmed: instant</th>}
                {confirm && <th scope="col">Confirmed: exact</th>}
              </tr>
            </thead>
            <tbody>
              {evalLangs.map((l) => (
                <tr key={l}>
                  <th scope="row">{l}</th>
                  <td>{fmt(dense[l])}</td>
                  <td data-lang={l}>{fmt(update?.ppl[l])}</td>
                  {confirm && <td>{fmt(confirm.instantPpl[l])}</td>}
                  {confirm && <td>{fmt(confirm.exactPpl[l])}</td>}
                </tr>
              ))}
            </tbody>
          </table>
          {confirm && (
            <div data-testid="mixer-confirm">
              <p className="hint">
                Confirmed mix {stats.sources.map((s, i) => `${s.name} ${pct(confirm.weights[i])}`).join(', ')}: the sequential {confirm.agreement === 'codes-equal' ? 'quantize' : 'prune'} on {confirm.windows.map((n, i) => `${n} ${stats.sources[i].name}`).join(' + ')} windows.
                {confirmStale ? ' The sliders have moved since; confirm again for the current mix.' : ''}
              </p>
              <table className="mixer-table mixer-iou">
                <caption>{confirm.agreement === 'codes-equal' ? 'Integer codes equal, instant vs exact (share of the weights; 1 = the same codes)' : 'Mask IoU, instant vs exact (1 = the same pruned weights)'}</caption>
                <thead>
                  <tr>
                    <th scope="col">Layer</th>
                    <th scope="col">Mean</th>
                    {LINEAR_MATRICES.map((m) => (
                      <th scope="col" key={m}>
                        {m.split('.')[1]}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {confirm.layerIou.map((v, i) => (
                    <tr key={i}>
                      <th scope="row">{i}</th>
                      <td>{v === null ? '–' : v.toFixed(4)}</td>
                      {confirm.iou[i].map((x, j) => (
                        <td key={j}>{x === null ? '–' : x.toFixed(3)}</td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}
