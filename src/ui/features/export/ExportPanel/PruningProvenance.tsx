import type { ModelSummary } from '../../../../engine';
import './ExportPanel.css';

/** What pruning.json says about a pruned model (made here or loaded from a PolyPrune export). */
export function PruningProvenance({ model }: { model: ModelSummary }) {
  const p = model.pruning;
  if (!p) return null;
  const calib = p.calibrationSources.length ? p.calibrationSources.map((c) => (c.language ? `${c.name} (${c.language})` : c.name)).join(', ') : p.nsamples !== null ? 'explicit token windows' : 'none';
  return (
    <dl className="facts pruning-provenance" aria-label="Pruning provenance">
      <dt>pruned with</dt>
      <dd>
        {p.method}, {p.structure} (target {(p.sparsityRatio * 100).toFixed(0)} %, overall {(p.overallSparsity * 100).toFixed(1)} %)
      </dd>
      <dt>calibration</dt>
      <dd>
        {calib}
        {p.nsamples !== null ? `, ${p.nsamples} × ${p.seqlen} tokens` : ''}
      </dd>
      <dt>base model</dt>
      <dd>{p.baseModel}</dd>
    </dl>
  );
}
