import { useState } from 'react';
import type { ExportFormat } from '../../../../engine';
import { useAppStore } from '../../../store';
import { canSaveToFolder, exportActiveModel } from '../../../store/actions';
import './ExportPanel.css';

const FORMATS: { value: ExportFormat; label: string; about: string }[] = [
  { value: 'hf', label: 'Hugging Face (safetensors)', about: 'config.json, model.safetensors (sharded above 5 GB), tokenizer files, pruning.json: loads in transformers, vLLM and PolyPrune.' },
  { value: 'onnx', label: 'ONNX (transformers.js)', about: 'onnx/model.onnx (fp32) and onnx/model_fp16.onnx, config.json, tokenizer files, pruning.json: loads in transformers.js and onnxruntime-web.' },
];

/** Export the active model (pruned or not) as a zip download or into a folder the user picks. */
export function ExportPanel() {
  const [format, setFormat] = useState<ExportFormat>('hf');
  const hasModel = useAppStore((s) => s.models.some((m) => m.id === s.activeModelId));
  const busy = useAppStore((s) => s.running !== null);
  if (!hasModel) return null;
  const folder = canSaveToFolder();
  return (
    <div className="export-panel" aria-label="Export the model">
      <label htmlFor="export-format">Export format</label>
      <select id="export-format" value={format} aria-describedby="export-format-about" onChange={(e) => setFormat(e.target.value as ExportFormat)}>
        {FORMATS.map((f) => (
          <option key={f.value} value={f.value}>
            {f.label}
          </option>
        ))}
      </select>
      <button type="button" disabled={busy} onClick={() => void exportActiveModel(format, 'zip')}>
        Download zip
      </button>
      {folder && (
        <button type="button" disabled={busy} onClick={() => void exportActiveModel(format, 'folder')}>
          Save to folder…
        </button>
      )}
      <span id="export-format-about" className="hint">
        {FORMATS.find((f) => f.value === format)?.about} {folder ? '' : 'Zips are limited to 4 GiB; for larger models use the polyprune CLI (polyprune export).'}
      </span>
    </div>
  );
}
