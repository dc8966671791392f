/**
 * Exporting the active model from the page: a zip download (streamed into a Blob in the engine
 * worker) or a folder the user picks (File System Access API, where the browser has it). Both run as
 * one op with progress and Cancel; a cancelled or failed export leaves nothing that looks complete.
 */
import { PolyPruneError } from '../../../common/errors';
import type { ExportFormat, ExportSizes, ModelSummary } from '../../../engine';
import { saveBlob, zipFileName } from '../../download';
import { fmtBytes } from '../../format';
import { useAppStore } from '../../store/index';
import { getEngine, runOp } from '../../store/actions/core';

const store = useAppStore.getState;

type DirectoryPicker = (opts?: { mode?: 'read' | 'readwrite'; id?: string }) => Promise<FileSystemDirectoryHandle>;

/** True where the browser can write into a folder the user picks (Chrome, Edge). */
export function canSaveToFolder(): boolean {
  return typeof (globalThis as { showDirectoryPicker?: unknown }).showDirectoryPicker === 'function';
}

function exportName(modelName: string, format: ExportFormat): string {
  const base = zipFileName(modelName).replace(/\.zip$/, '');
  return format === 'onnx' ? `${base}-onnx` : format === 'hf-gptq' ? `${base}-gptq` : base;
}

/** The model files' bytes of model `id` in every export format, or why a format cannot hold it (nothing is written). */
export async function exportSizesOf(id: string): Promise<ExportSizes | null> {
  try {
    return await getEngine().exportSizes(id);
  } catch {
    return null; // the sizes are a hint; the export itself reports any problem
  }
}

export async function exportActiveModel(format: ExportFormat, target: 'zip' | 'folder'): Promise<void> {
  const s = store();
  const model = s.models.find((m) => m.id === s.activeModelId);
  if (!model) {
    s.pushMessage({ panel: 'prune', level: 'error', code: 'BAD_ARGUMENT', text: 'Load a model first; there is nothing to export.' });
    return;
  }
  const name = exportName(model.name, format);
  let dir: FileSystemDirectoryHandle | null = null;
  if (target === 'folder') {
    if (!canSaveToFolder()) {
      s.pushMessage({ panel: 'prune', level: 'error', code: 'BAD_ARGUMENT', text: 'This browser cannot write into a folder; download a zip instead.' });
      return;
    }
    try {
      // Before any other await: the picker needs the click's user activation.
      dir = await (globalThis as unknown as { showDirectoryPicker: DirectoryPicker }).showDirectoryPicker({ mode: 'readwrite', id: 'polyprune-export' });
    } catch (e) {
      if ((e as { name?: string }).name === 'AbortError') return; // the user closed the picker
      s.pushMessage({ panel: 'prune', level: 'error', code: 'OUTPUT_FAILED', text: `Cannot open the folder: ${(e as Error).message}` });
      return;
    }
  }
  const what = format === 'onnx' ? 'ONNX (transformers.js layout)' : format === 'hf-gptq' ? 'Hugging Face GPTQ' : 'Hugging Face safetensors';
  const done = await runOp('prune', `Exporting ${model.name} as ${what}`, async (opts) => {
    if (dir) {
      const r = await getEngine().exportToDirectory(model.id, dir, name, { format }, opts);
      return `Saved ${dir.name}/${name} (${fmtBytes(r.bytes)}: ${r.files.join(', ')}).`;
    }
    const blob = await getEngine().exportZip(model.id, { format }, opts);
    if (!(blob instanceof Blob)) throw new PolyPruneError('INTERNAL', 'The engine returned no zip.');
    saveBlob(blob, `${name}.zip`);
    return `Saved ${name}.zip (${fmtBytes(blob.size)}).`;
  });
  if (done) store().pushMessage({ panel: 'prune', level: 'info', text: done });
  await showNewWarnings(model);
}

/**
 * Warnings the model gained in the engine during the export (the mixer's model reads its pruned
 * matrices back only when exported; a spill file that cannot be used keeps them in memory and says
 * so on the model): the page's summary of it is updated and each new warning shown.
 */
async function showNewWarnings(before: ModelSummary): Promise<void> {
  const now = await getEngine()
    .listModels()
    .then((ms) => ms.find((m) => m.id === before.id))
    .catch(() => undefined);
  if (!now) return;
  const known = new Set(before.warnings ?? []);
  const added = (now.warnings ?? []).filter((w) => !known.has(w));
  if (!added.length) return;
  store().updateModel(now);
  for (const w of added) store().pushMessage({ panel: 'prune', level: 'info', text: `Warning: ${w}` });
}
