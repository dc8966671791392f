/**
 * Model files from a drop or a file picker. A model folder is flat (config.json, tokenizer.json,
 * *.safetensors), so only its top-level files are kept; their names are plain file names, which
 * also survive the copy into the worker (webkitRelativePath does not).
 */

export interface PickedFiles {
  files: File[];
  /** The dropped folder's name, or a description of the dropped files. */
  name: string;
}

function readAll(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => {
    const out: FileSystemEntry[] = [];
    const next = (): void =>
      reader.readEntries((batch) => {
        if (!batch.length) resolve(out);
        else {
          out.push(...batch);
          next();
        }
      }, reject);
    next();
  });
}

const fileOf = (e: FileSystemFileEntry): Promise<File> => new Promise((resolve, reject) => e.file(resolve, reject));

/** Files of a drop: a single folder contributes its top-level files; loose files are taken as they are. */
export async function filesFromDrop(dt: DataTransfer): Promise<PickedFiles> {
  const entries = [...dt.items].map((it) => (it.kind === 'file' ? it.webkitGetAsEntry?.() : null)).filter((e): e is FileSystemEntry => !!e);
  if (!entries.length) return { files: [...dt.files], name: 'dropped files' };
  const files: File[] = [];
  const dirs = entries.filter((e) => e.isDirectory) as FileSystemDirectoryEntry[];
  for (const e of entries) if (e.isFile) files.push(await fileOf(e as FileSystemFileEntry));
  for (const d of dirs) {
    for (const c of await readAll(d.createReader())) if (c.isFile) files.push(await fileOf(c as FileSystemFileEntry));
  }
  return { files, name: dirs.length === 1 && entries.length === 1 ? dirs[0].name : 'dropped files' };
}

/** Files from `<input type=file>` (with or without `webkitdirectory`). */
export function filesFromInput(list: FileList): PickedFiles {
  const all = [...list];
  const rel = all.map((f) => f.webkitRelativePath || f.name);
  if (rel.some((r) => r.includes('/'))) {
    const top = rel[0].split('/')[0];
    return { files: all.filter((_, i) => rel[i].split('/').length === 2), name: top };
  }
  return { files: all, name: all.length === 1 ? all[0].name : 'chosen files' };
}

/** A message when the picked files cannot be a model, else null. */
export function checkModelFiles(files: File[]): string | null {
  const names = new Set(files.map((f) => f.name));
  const missing = ['config.json', 'tokenizer.json'].filter((n) => !names.has(n));
  if (!files.some((f) => f.name.endsWith('.safetensors'))) missing.push('*.safetensors');
  if (!missing.length) return null;
  return `A model needs config.json, tokenizer.json and *.safetensors; missing: ${missing.join(', ')}. Got: ${[...names].slice(0, 10).join(', ') || 'nothing'}.`;
}
