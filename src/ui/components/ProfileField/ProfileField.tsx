import { useAppStore } from '../../store';

const num = (x: number): number | '' => (Number.isFinite(x) ? x : '');

/**
 * Layer-wise sparsity: uniform, or OWL (outlier-weighed layer-wise sparsity) with its M and lambda.
 * One setting for the Prune and Experiment panels; `context` keeps the two copies' labels apart.
 */
export function ProfileField({ context, disabled }: { context: string; disabled?: boolean }) {
  const p = useAppStore((s) => s.layerProfile);
  const set = useAppStore((s) => s.setLayerProfile);
  const id = context.toLowerCase();
  return (
    <fieldset className="profile-field">
      <legend>Layer-wise sparsity</legend>
      <select id={`${id}-profile`} aria-label={`${context}: layer-wise sparsity`} value={p.profile} disabled={disabled} onChange={(e) => set({ profile: e.target.value as 'uniform' | 'owl' })}>
        <option value="uniform">uniform</option>
        <option value="owl">OWL (outlier-weighed)</option>
      </select>
      {p.profile === 'owl' && (
        <>
          <label>
            M{' '}
            <input type="number" aria-label={`${context}: OWL outlier threshold M`} min={0.5} step={0.5} disabled={disabled} value={num(p.owlM)} onChange={(e) => set({ owlM: e.target.valueAsNumber })} />
          </label>{' '}
          <label>
            λ{' '}
            <input type="number" aria-label={`${context}: OWL lambda`} min={0.01} max={0.24} step={0.01} disabled={disabled} value={num(p.owlLambda)} onChange={(e) => set({ owlLambda: e.target.valueAsNumber })} />
          </label>
          <span className="hint">OWL (Yin et al. 2023): layers with more outliers (|W|·‖x‖ above M × the layer mean) are pruned less; the sparsities spread over 2λ, their mean stays at the target. Unstructured only.</span>
        </>
      )}
    </fieldset>
  );
}
