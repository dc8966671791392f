import { useEffect, useState } from 'react';
import type { ProgressEvent } from '../../../common/progress';
import { cancelRunning } from '../../store/actions';
import { useAppStore, type OpPanel } from '../../store';
import { fmtBytes, fmtDuration } from '../../format';
import './OpProgress.css';

function describe(p: ProgressEvent | null): { text: string; fraction: number | null } {
  if (!p) return { text: 'Starting…', fraction: null };
  switch (p.kind) {
    case 'download':
      return { text: `Downloading ${p.file}: ${fmtBytes(p.loaded)}${p.total ? ` of ${fmtBytes(p.total)}` : ''}`, fraction: p.total ? p.loaded / p.total : null };
    case 'layer':
      return {
        text: `Layer ${p.layer + 1} of ${p.layers} (${p.phase})${p.etaMs > 0 ? `, about ${fmtDuration(p.etaMs)} left` : ''}`,
        fraction: p.layers ? p.layer / p.layers : null,
      };
    case 'prune':
      return { text: `Pruning ${p.matrix} (${p.done}/${p.total})`, fraction: p.total ? p.done / p.total : null };
    case 'done':
      return { text: p.message, fraction: 1 };
    case 'step':
      return { text: `${p.message} (${p.done}/${p.total})${p.etaMs ? `, about ${fmtDuration(p.etaMs)} left` : ''}`, fraction: p.total ? p.done / p.total : null };
    case 'layerDone':
      return { text: `Layer ${p.layer + 1} of ${p.layers} pruned`, fraction: p.layers ? (p.layer + 1) / p.layers : null };
    case 'token':
      return { text: `Generating (${p.done}/${p.total} tokens)`, fraction: p.total ? p.done / p.total : null };
    case 'cell':
    case 'rowDone':
    case 'maskOverlap':
      return { text: 'Measuring', fraction: null };
    default:
      return { text: `${p.message} (${p.done}/${p.total})`, fraction: p.total ? p.done / p.total : null };
  }
}

/** Time left of a multi-step operation from the time so far and the fraction done (null: too early to tell). */
export function etaMs(elapsedMs: number, fraction: number | null): number | null {
  if (fraction === null || fraction < 0.02 || elapsedMs < 2000) return null;
  return (elapsedMs * (1 - fraction)) / fraction;
}

/** Progress and Cancel of the running operation, shown in the panel that started it. */
export function OpProgress({ panel }: { panel: OpPanel }) {
  const op = useAppStore((s) => (s.running?.panel === panel ? s.running : null));
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!op) return;
    const t = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(t);
  }, [op]);
  if (!op) return null;
  const inner = op.progress || !op.overall ? describe(op.progress) : null;
  // A multi-step op shows its steps on the bar (moving inside a step with the engine call's own
  // progress); the current engine call's progress goes below.
  const within = inner?.fraction ?? 0;
  const fraction = op.overall ? (op.overall.total ? Math.min(1, (op.overall.done + Math.min(0.99, within)) / op.overall.total) : null) : (inner?.fraction ?? null);
  const elapsed = Math.max(0, now - op.startedAt);
  // A run that estimates its own time left (an experiment: each kind of step at its own pace) counts
  // that down; else the time so far scaled by the fraction done.
  const own = op.overall?.etaMs;
  const eta = op.overall ? (own !== undefined && own !== null && op.overall.etaAt !== undefined ? Math.max(0, own - (now - op.overall.etaAt)) : own === null ? null : etaMs(elapsed, fraction)) : null;
  return (
    <div className="op-progress" role="status" aria-live="polite">
      <div className="op-progress-head">
        <strong>{op.label}</strong>
        <span className="op-progress-elapsed">{fmtDuration(elapsed)}</span>
        <button type="button" onClick={() => void cancelRunning()} disabled={op.cancelling}>
          {op.cancelling ? 'Cancelling…' : 'Cancel'}
        </button>
      </div>
      <progress max={1} value={fraction ?? undefined} aria-label={`${op.label} progress`} />
      {op.overall && (
        <div className="op-progress-text op-progress-step">
          Step {Math.min(op.overall.done + 1, op.overall.total)} of {op.overall.total}: {op.overall.message}
          {eta !== null && <span className="op-progress-eta"> · about {fmtDuration(eta)} left</span>}
        </div>
      )}
      {inner && <div className="op-progress-text">{inner.text}</div>}
    </div>
  );
}
