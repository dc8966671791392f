import type { SparsityPattern } from '../../store';
import './SparsityField.css';

/**
 * Unstructured sparsity (a fraction) or 2:4 semi-structured, as a fieldset of two radios. `context`
 * (e.g. "Experiment") prefixes the legend and the number field's name, so two panels never share a label.
 */
export function SparsityField({ name, pattern, onChange, context }: { name: string; pattern: SparsityPattern; onChange: (p: SparsityPattern) => void; context?: string }) {
  return (
    <fieldset className="sparsity-field">
      <legend>{context ? `${context} sparsity` : 'Sparsity'}</legend>
      <label>
        <input type="radio" name={name} aria-label={context ? `${context}: unstructured` : undefined} checked={pattern.kind === 'unstructured'} onChange={() => onChange({ kind: 'unstructured', sparsity: 0.5 })} /> unstructured
      </label>{' '}
      <label>
        <span className="visually-hidden">{context ? `${context}: fraction` : 'Fraction'} of weights to remove</span>
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
        <input type="radio" name={name} aria-label={context ? `${context}: 2:4 semi-structured` : undefined} checked={pattern.kind === 'nm'} onChange={() => onChange({ kind: 'nm', n: 2, m: 4 })} /> 2:4 semi-structured
      </label>
    </fieldset>
  );
}
