import { useEffect } from 'react';
import { useAppStore } from '../../../store';
import { fmtLong } from '../../../../experiment/estimate';
import { applyFasterSettings, estimateStudy, fasterSettings, measureForwardRate, rateKey, studyShape } from '../estimate';

export { fmtLong };

const describe = (f: NonNullable<ReturnType<typeof fasterSettings>>['settings']): string =>
  [
    f.taskLimit !== undefined ? `${f.taskLimit} task items per cell` : '',
    f.evalWindows !== undefined ? `${f.evalWindows} evaluation windows` : '',
    f.seeds !== undefined ? `${f.seeds} seed` : '',
    f.nsamples !== undefined ? `${f.nsamples} calibration windows per source` : '',
  ]
    .filter(Boolean)
    .join(', ');

/**
 * Next to "Run experiment": how long the run will take on this adapter, from a forward rate measured
 * once per adapter and model (a few forward passes) and the run plan; when it is long, the settings
 * that bring it to minutes, applied with one click.
 */
export function RunEstimate() {
  const state = useAppStore((s) => s);
  const model = state.models.find((m) => m.id === state.activeModelId);
  const key = model ? rateKey(state, model) : null;
  const rate = key && state.expRate?.key === key ? state.expRate.tokensPerMs : null;
  const busy = state.running !== null;
  useEffect(() => {
    if (model && key && rate === null && !busy) void measureForwardRate(model);
  }, [model, key, rate, busy]);
  const shape = studyShape(state);
  if (!model || !shape) return null;
  if (rate === null) {
    return (
      <p className="hint run-estimate" data-testid="run-estimate">
        {key ? 'Measuring this adapter’s speed for a time estimate…' : ''}
      </p>
    );
  }
  const est = estimateStudy(shape, rate);
  const long = est.totalMs > 20 * 60_000;
  const faster = long ? fasterSettings(shape, rate) : null;
  return (
    <p className="hint run-estimate" data-testid="run-estimate" role="note">
      Estimated time: <strong>about {fmtLong(est.totalMs)}</strong>
      {est.totalMs >= 3_600_000 ? ' (hours)' : ''} on this adapter ({Math.round(rate * 1000).toLocaleString('en-US')} tokens/s measured; {est.steps.prune} prune{est.steps.prune === 1 ? '' : 's'}, {est.steps.ppl} perplexity and {est.steps.task} task cells).
      {faster && (
        <>
          {' '}
          {faster.reached ? 'In minutes' : 'Faster'} with {describe(faster.settings)}: about {fmtLong(faster.estimate.totalMs)}.{' '}
          <button type="button" disabled={busy} onClick={() => applyFasterSettings(faster.settings)}>
            Use these settings
          </button>
        </>
      )}
    </p>
  );
}
