import { useShallow } from 'zustand/react/shallow';
import { useAppStore, type PruneMethod } from '../../store';
import { runMatrix } from '../../store/actions';
import { LanguagePicker } from '../LanguagePicker/LanguagePicker';
import { MatrixHeatmap } from '../MatrixHeatmap/MatrixHeatmap';
import { Messages } from '../Messages/Messages';
import { OpProgress } from '../OpProgress/OpProgress';
import { SparsityField } from '../SparsityField/SparsityField';
import { PRUNE_METHOD_INFO } from '../../../engine/api';
import './MatrixPanel.css';

// the one registry of pruning methods (src/prune/method.ts)
const METHODS: { value: PruneMethod; label: string; about: string }[] = PRUNE_METHOD_INFO.map((m) => ({ value: m.id, label: m.calibrated ? m.label : `${m.label} (no calibration)`, about: m.description }));

const num = (x: number): number | '' => (Number.isFinite(x) ? x : '');

/**
 * The study's experiment: prune the active model once per calibration language and measure every
 * evaluation language, then show the matrix as a heatmap.
 */
export function MatrixPanel() {
  const s = useAppStore(
    useShallow((st) => ({
      languages: st.languages,
      matrixMethod: st.matrixMethod,
      matrixPattern: st.matrixPattern,
      matrixCalib: st.matrixCalib,
      matrixEval: st.matrixEval,
      matrixNsamples: st.matrixNsamples,
      matrixSeqlen: st.matrixSeqlen,
      matrixEvalWindows: st.matrixEvalWindows,
    })),
  );
  const model = useAppStore((st) => st.models.find((m) => m.id === st.activeModelId));
  const busy = useAppStore((st) => st.running !== null);
  const { setMatrixMethod, setMatrixPattern, setMatrixCalib, setMatrixEval, setMatrixNsamples, setMatrixSeqlen, setMatrixEvalWindows } = useAppStore.getState();
  const langs = s.languages.state === 'ready' ? s.languages.languages : [];
  const options = langs.map((code) => ({ code }));
  const calib = langs.filter((l) => s.matrixCalib.includes(l));
  const evl = langs.filter((l) => s.matrixEval.includes(l));
  const prunes = calib.length;
  const measures = (calib.length + 1) * evl.length;
  const calibrated = s.matrixMethod !== 'magnitude';

  return (
    <section className="panel matrix-panel" aria-labelledby="matrix-heading">
      <h2 id="matrix-heading">Language matrix</h2>
      <p className="hint matrix-intro">
        Prunes the active model once per calibration language and measures held-out perplexity in every evaluation language, next to the dense model.
        Calibration and evaluation texts are the bundled model&apos;s <code>calib/</code> and <code>eval/</code> files.
      </p>
      {s.languages.state === 'missing' && (
        <p className="notice" role="note">
          {s.languages.message}
        </p>
      )}
      <div className="matrix-form">
        <div className="matrix-settings">
          <div className="field">
            <label htmlFor="matrix-method">Method</label>
            <select id="matrix-method" value={s.matrixMethod} onChange={(e) => setMatrixMethod(e.target.value as PruneMethod)}>
              {METHODS.map((m) => (
                <option key={m.value} value={m.value}>
                  {m.label}
                </option>
              ))}
            </select>
          </div>
          <SparsityField name="matrix-pattern" pattern={s.matrixPattern} onChange={setMatrixPattern} />
          <div className="matrix-sizes">
            <label>
              Calibration windows
              <input type="number" min={1} step={1} disabled={!calibrated} value={num(s.matrixNsamples)} onChange={(e) => setMatrixNsamples(e.target.valueAsNumber)} />
            </label>
            <label>
              Window length (tokens)
              <input type="number" min={2} max={model?.maxPositionEmbeddings} step={1} value={num(s.matrixSeqlen)} onChange={(e) => setMatrixSeqlen(e.target.valueAsNumber)} />
            </label>
            <label>
              Evaluation windows per language
              <input type="number" min={1} step={1} value={num(s.matrixEvalWindows)} onChange={(e) => setMatrixEvalWindows(e.target.valueAsNumber)} />
            </label>
          </div>
        </div>
        <div className="matrix-langs">
          <LanguagePicker legend="Calibration languages (rows)" options={options} selected={s.matrixCalib} onChange={setMatrixCalib} disabled={!langs.length} />
          <LanguagePicker legend="Evaluation languages (columns)" options={options} selected={s.matrixEval} onChange={setMatrixEval} disabled={!langs.length} />
        </div>
      </div>
      {!calibrated && <p className="hint">Magnitude pruning ignores the calibration text, so every row comes out the same: a baseline for the calibrated methods.</p>}
      <div className="row actions">
        <button type="button" className="primary" disabled={!model || busy || !langs.length} onClick={() => void runMatrix()}>
          Run matrix
        </button>
        {model ? (
          <span className="hint">
            {prunes} pruning run{prunes === 1 ? '' : 's'} and {measures} perplexity measurement{measures === 1 ? '' : 's'} on {model.name}
            {model.prunedFrom ? ' (already pruned: the matrix prunes it further)' : ''}
          </span>
        ) : (
          <span className="hint">Load a model first.</span>
        )}
      </div>
      <OpProgress panel="matrix" />
      <Messages panel="matrix" />
      <MatrixHeatmap />
    </section>
  );
}
