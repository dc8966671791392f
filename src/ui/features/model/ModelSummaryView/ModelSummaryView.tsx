import { useAppStore } from '../../../store';
import { unloadModel } from '../../../store/actions';
import { fmtBytes, fmtCount } from '../../../format';
import { PruningProvenance } from '../../../features/export/ExportPanel/PruningProvenance';
import './ModelSummaryView.css';

/** Loaded models (pick the active one) and the architecture of the active model. */
export function ModelSummaryView() {
  const models = useAppStore((s) => s.models);
  const activeId = useAppStore((s) => s.activeModelId);
  const setActive = useAppStore((s) => s.setActiveModel);
  const busy = useAppStore((s) => s.running !== null);
  const m = models.find((x) => x.id === activeId);
  if (!models.length) return <p className="hint model-none">No model loaded yet.</p>;
  return (
    <div className="model-summary">
      {models.length > 1 && (
        <fieldset className="model-list">
          <legend>Loaded models</legend>
          {models.map((x) => (
            <label key={x.id}>
              <input type="radio" name="active-model" checked={x.id === activeId} onChange={() => setActive(x.id)} /> {x.name}
              {x.prunedFrom && <span className="hint"> (pruned from {models.find((y) => y.id === x.prunedFrom)?.name ?? x.prunedFrom})</span>}
            </label>
          ))}
        </fieldset>
      )}
      {m && (
        <>
          <div className="model-summary-head">
            <h3>
              {m.name} <span className="badge">{m.modelType}</span>
            </h3>
            <button type="button" disabled={busy} onClick={() => void unloadModel(m.id)}>
              Unload
            </button>
          </div>
          <p className="hint model-source-text">{m.source}</p>
          <PruningProvenance model={m} />
          {m.warnings && m.warnings.length > 0 && (
            <ul className="model-warnings" aria-label="Warnings about this model">
              {m.warnings.map((w) => (
                <li key={w}>Warning: {w}</li>
              ))}
            </ul>
          )}
          <dl className="facts" aria-label="Model architecture">
            <dt>parameters</dt>
            <dd>{fmtCount(m.parameters)}</dd>
            <dt>layers</dt>
            <dd>{m.numLayers}</dd>
            <dt>hidden size</dt>
            <dd>{m.hiddenSize}</dd>
            <dt>FFN size</dt>
            <dd>{m.intermediateSize}</dd>
            <dt>heads / KV heads</dt>
            <dd>
              {m.numHeads} / {m.numKvHeads}
            </dd>
            <dt>head dim</dt>
            <dd>{m.headDim}</dd>
            <dt>vocabulary</dt>
            <dd>{m.vocabSize}</dd>
            <dt>max positions</dt>
            <dd>{m.maxPositionEmbeddings}</dd>
            <dt>tied embeddings</dt>
            <dd>{m.tieWordEmbeddings ? 'yes' : 'no'}</dd>
            <dt>weights</dt>
            <dd>
              {m.dtype}, {fmtBytes(m.checkpointBytes)}
            </dd>
            <dt>on the GPU</dt>
            <dd>{m.resident ? 'all layers resident' : 'layers streamed from the checkpoint'}</dd>
          </dl>
        </>
      )}
    </div>
  );
}
