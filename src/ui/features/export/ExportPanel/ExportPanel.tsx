import { useEffect, useState } from 'react';
import type { ExportFormat, ExportSizes } from '../../../../engine';
import { fmtBytes } from '../../../format';
import { useAppStore } from '../../../store';
import { canSaveToFolder, exportActiveModel } from '../../../store/actions';
import { exportSizesOf } from '../actions';
import './ExportPanel.css';

const FORMATS: { value: ExportFormat; label: string; about: string }[] = [
  { value: 'hf', label: 'Hugging Face (safetensors)', about: 'config.json, model.safetensors (sharded above 5 GB), tokenizer files, pruning.json: loads in transformers, vLLM and PolyPrune.' },
  { value: 'hf-gptq', label: 'Hugging Face GPTQ (quantized)', about: "A GPTQ model's integer codes (qweight, qzeros, scales, g_idx) with quantization_config in config.json: loads in transformers, GPTQModel and vLLM." },
  { value: 'onnx', label: 'ONNX (transformers.js)', about: "onnx/model.onnx (fp32) and onnx/model_fp16.onnx, or for a GPTQ model its codes in MatMulNBits (onnx/model_q4.onnx, transformers.js dtype 'q4'), config.json, tokenizer files, pruning.json: loads in transformers.js and onnxruntime-web." },
];

/** The size shown beside a format: the model files' bytes, or why it cannot hold this model. */
function sizeNote(sizes: ExportSizes | null, f: ExportFormat): { text: string; refused?: string } {
  const s = sizes?.[f];
  if (!s) return { text: '' };
  return 'bytes' in s ? { text: ` (${fmtBytes(s.bytes)})` } : { text: ' (not for this model)', refused: s.refused };
}

/** Export the active model (pruned or not) as a zip download or into a folder the user picks. */
export function ExportPanel() {
  const [format, setFormat] = useState<ExportFormat>('hf');
  const hasModel = useAppStore((s) => s.models.some((m) => m.id === s.activeModelId));
  const busy = useAppStore((s) => s.running !== null);
  const activeId = useAppStore((s) => s.activeModelId);
  const [sizes, setSizes] = useState<ExportSizes | null>(null);
  useEffect(() => {
    let live = true;
    setSizes(null);
    if (activeId) void exportSizesOf(activeId).then((s) => live && setSizes(s));
    return () => {
      live = false;
    };
  }, [activeId]);
  if (!hasModel) return null;
  const note = sizeNote(sizes, format);
  const folder = canSaveToFolder();
  return (
    <div className="export-panel" aria-label="Export the model">
      <label htmlFor="export-format">Export format</label>
      <select id="export-format" value={format} aria-describedby="export-format-about" onChange={(e) => setFormat(e.target.value as ExportFormat)}>
        {FORMATS.map((f) => (
          <option key={f.value} value={f.value} disabled={!!sizeNote(sizes, f.value).refused} title={sizeNote(sizes, f.value).refused}>
            {f.label}
            {sizeNote(sizes, f.value).text}
          </option>
        ))}
      </select>
      <button type="button" disabled={busy || !!note.refused} onClick={() => void exportActiveModel(format, 'zip')}>
        Download zip
      </button>
      {folder && (
        <button type="button" disabled={busy || !!note.refused} onClick={() => void exportActiveModel(format, 'folder')}>
          Save to folder…
        </button>
      )}
      <span id="export-format-about" className="hint">
        {FORMATS.find((f) => f.value === format)?.about} {note.refused ?? ''} {sizes && 'bytes' in sizes[format] ? `Model files: ${fmtBytes(sizes[format].bytes)}.` : ''} {folder ? '' : 'Zips are limited to 4 GiB; for larger models use the polyprune CLI (polyprune export).'}
      </span>
    </div>
  );
}
