import type { SparsityPattern } from '../../store';
import './SparsityField.css';

/** Unstructured sparsity (a fraction) or 2:4 semi-structured, as a fieldset of two radios. */
export function SparsityField({ name, pattern, onChange }: { name: string; pattern: SparsityPattern; onChange: (p: SparsityPattern) => void }) {
  return (
    <fieldset className="sparsity-field">
      <legend>Sparsity</legend>
      <label>
        <input type="radio" name={name} checked={pattern.kind === 'unstructured'} onChange={() => onChange({ kind: 'unstructured', sparsity: 0.5 })} /> unstructured
      </label>{' '}
      <label>
        <span className="visually-hidden">Fraction of weights to remove</span>
        <input
          type="number"
          min={0}
          max={0.99}
          step={0.05}
          disabled={pattern.kind !== 'unstructured'}
          value={pattern.kind !== 'unstructured' ? 0.5 : Number.isFinite(pattern.sparsity) ? pattern.sparsity : ''}
          onChange={(e) => onChange({ kind: 'unstructured', sparsity: e.target.valueAsNumber })}
        />
      </label>
      <br />
      <label>
        <input type="radio" name={name} checked={pattern.kind === 'nm'} onChange={() => onChange({ kind: 'nm', n: 2, m: 4 })} /> 2:4 semi-structured
      </label>
    </fieldset>
  );
}
