import { useEffect, useState } from 'react';
import { useAppStore, type PruneMethod } from '../../../store';
import { activePrunePlan, runPrune } from '../../../store/actions';
import { Messages } from '../../../components/Messages/Messages';
import { OpProgress } from '../../../components/OpProgress/OpProgress';
import { PruneReportView } from '../PruneReportView/PruneReportView';
import { ExportPanel } from '../../export/ExportPanel/ExportPanel';
import { SparsityField } from '../../../components/SparsityField/SparsityField';
import { ProfileField } from '../../../components/ProfileField/ProfileField';
import { PRUNE_METHOD_INFO, needsCalibration } from '../../../../engine';
import './PrunePanel.css';

// the one registry of pruning methods (src/prune/method.ts)
const METHODS: { value: PruneMethod; label: string; about: string }[] = PRUNE_METHOD_INFO.map((m) => ({ value: m.id, label: m.calibrated ? m.label : `${m.label} (no calibration)`, about: m.description }));

/** What the prune with the panel's settings will need (the engine's plan), said before it starts. */
function PrunePlanLine() {
  const model = useAppStore((s) => s.activeModelId);
  const method = useAppStore((s) => s.pruneMethod);
  const n = useAppStore((s) => s.calibSamples);
  const seqlen = useAppStore((s) => s.seqlen);
  const busy = useAppStore((s) => s.running !== null);
  const [text, setText] = useState<string | null>(null);
  useEffect(() => {
    if (busy) return;
    let live = true;
    void activePrunePlan().then((t) => live && setText(t));
    return () => {
      live = false;
    };
  }, [model, method, n, seqlen, busy]);
  return text ? (
    <p className="hint prune-plan" aria-label="Prune plan">
      {text}
    </p>
  ) : null;
}

/** Prune a copy of the active model; the form is the prune slice, the button calls actions.runPrune. */
export function PrunePanel() {
  const method = useAppStore((s) => s.pruneMethod);
  const pattern = useAppStore((s) => s.prunePattern);
  const calibLanguage = useAppStore((s) => s.calibLanguage);
  const calibSamples = useAppStore((s) => s.calibSamples);
  const languages = useAppStore((s) => s.languages);
  const sources = useAppStore((s) => s.sources);
  const hasModel = useAppStore((s) => s.models.some((m) => m.id === s.activeModelId));
  const busy = useAppStore((s) => s.running !== null);
  const { setPruneMethod, setPrunePattern, setCalibLanguage, setCalibSamples } = useAppStore.getState();
  const langs = languages.state === 'ready' ? languages.languages : [];
  const calibrated = needsCalibration(method);
  // A bundled source of the Experiment panel is the same text as the bundled language: listed once.
  const ownSources = sources.filter((x) => !(x.origin === 'bundled' && x.language !== null && langs.includes(x.language)));

  return (
    <section className="panel prune-panel" aria-labelledby="prune-heading">
      <h2 id="prune-heading">Prune</h2>
      <div className="prune-grid">
        <div className="prune-field">
          <label htmlFor="prune-method">Method</label>
          <select id="prune-method" aria-describedby="prune-method-about" value={method} onChange={(e) => setPruneMethod(e.target.value as PruneMethod)}>
            {METHODS.map((m) => (
              <option key={m.value} value={m.value}>
                {m.label}
              </option>
            ))}
          </select>
          <span id="prune-method-about" className="hint">
            {METHODS.find((m) => m.value === method)?.about}
          </span>
        </div>
        <SparsityField name="prune-pattern" pattern={pattern} onChange={setPrunePattern} />
        <ProfileField context="Prune" disabled={!calibrated || pattern.kind === 'nm'} />
        <div className="prune-field">
          <label htmlFor="prune-calib-lang">Calibration text</label>
          <select id="prune-calib-lang" value={calibLanguage} disabled={!calibrated || (!langs.length && !sources.length)} onChange={(e) => setCalibLanguage(e.target.value)}>
            <optgroup label="Bundled text">
              {(langs.length ? langs : calibLanguage.startsWith('src:') ? [] : [calibLanguage]).map((l) => (
                <option key={l} value={l}>
                  {l}
                </option>
              ))}
            </optgroup>
            {ownSources.length > 0 && (
              <optgroup label="Calibration sources (Experiment panel)">
                {ownSources.map((x) => (
                  <option key={x.id} value={`src:${x.id}`}>
                    {x.name}
                    {x.language ? ` (${x.language})` : ''}
                  </option>
                ))}
              </optgroup>
            )}
          </select>
        </div>
        <div className="prune-field">
          <label htmlFor="prune-calib-n">Calibration windows</label>
          <input
            id="prune-calib-n"
            type="number"
            min={1}
            step={1}
            aria-describedby="prune-calib-n-about"
            disabled={!calibrated}
            value={Number.isFinite(calibSamples) ? calibSamples : ''}
            onChange={(e) => setCalibSamples(e.target.valueAsNumber)}
          />
          <span id="prune-calib-n-about" className="hint">
            Each window is one sequence of the length set under Perplexity.
          </span>
        </div>
      </div>
      <div className="row actions">
        <button type="button" className="primary" disabled={!hasModel || busy} onClick={() => void runPrune()}>
          Prune
        </button>
      </div>
      <PrunePlanLine />
      <OpProgress panel="prune" />
      <Messages panel="prune" />
      <PruneReportView />
      <ExportPanel />
    </section>
  );
}
