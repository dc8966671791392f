import { useAppStore } from '../../../store';
import { openView } from '../../../store/actions/view';
import { fmtCount } from '../../../format';
import './ModelLine.css';

/** Scroll to the Model panel (it sits under the Experiment panel in the study view). */
function showModelPanel(): void {
  openView('study');
  requestAnimationFrame(() => {
    const h = document.getElementById('model-heading');
    h?.scrollIntoView({ behavior: 'smooth', block: 'start' });
    h?.closest('section')?.querySelector<HTMLElement>('button, input, select')?.focus({ preventScroll: true });
  });
}

/**
 * The header's model line: the model every panel works on (with a choice when several are loaded),
 * loading progress, or why there is none; "Model details" leads to the Model panel.
 */
export function ModelLine() {
  const models = useAppStore((s) => s.models);
  const activeId = useAppStore((s) => s.activeModelId);
  const setActive = useAppStore((s) => s.setActiveModel);
  const loading = useAppStore((s) => (s.running?.panel === 'model' ? s.running : null));
  const lastError = useAppStore((s) => s.messages.filter((m) => m.panel === 'model' && m.level === 'error').at(-1));
  const busy = useAppStore((s) => s.running !== null);
  const m = models.find((x) => x.id === activeId);
  const p = loading?.progress;
  const fraction = !p ? undefined : p.kind === 'download' ? (p.total ? p.loaded / p.total : undefined) : 'done' in p && 'total' in p && p.total ? p.done / p.total : undefined;
  return (
    <div className="model-line" data-state={loading ? 'loading' : m ? 'loaded' : 'none'}>
      <span className="model-line-label">Model</span>
      {models.length > 1 ? (
        <select aria-label="Active model" value={activeId ?? ''} disabled={busy} onChange={(e) => setActive(e.target.value)}>
          {models.map((x) => (
            <option key={x.id} value={x.id}>
              {x.name}
              {x.prunedFrom ? ' (pruned)' : ''}
            </option>
          ))}
        </select>
      ) : (
        m && <strong className="model-line-name">{m.name}</strong>
      )}
      {m && (
        <span className="hint model-line-facts">
          {m.modelType} · {fmtCount(m.parameters)} parameters · {m.numLayers} layers
        </span>
      )}
      {loading && (
        <span className="model-line-loading">
          {loading.label}… <progress max={1} value={fraction} aria-label="Model loading in the header" />
        </span>
      )}
      {!m && !loading && <span className="model-line-none">{lastError ? `No model loaded: ${lastError.text}` : 'No model loaded yet.'}</span>}
      <button type="button" className="small" onClick={showModelPanel}>
        {m ? 'Model details' : 'Load a model'}
      </button>
    </div>
  );
}
