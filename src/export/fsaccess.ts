/**
 * Browser folder sink (File System Access API): the export goes into a new subfolder `name` of a
 * folder the user picked (showDirectoryPicker; the handle also works inside the engine worker).
 * Each file is written through createWritable(), whose data only becomes the file on close(). Where
 * the browser can move directory handles, files go into `<name>.partial` and the folder is renamed
 * on commit; otherwise they go into `<name>` directly with config.json written last (a folder without
 * config.json is not a loadable model). abort() removes the subfolder either way.
 */
import { PolyPruneError } from '../common/errors';
import { SinkState, type ExportSink } from './sink';

type Movable = FileSystemDirectoryHandle & { move?: (name: string) => Promise<void> };

function fsError(e: unknown, what: string): PolyPruneError {
  if (e instanceof PolyPruneError) return e;
  const name = (e as { name?: string })?.name;
  const why =
    name === 'NotAllowedError' || name === 'SecurityError'
      ? 'permission denied (allow the page to edit the folder, or pick another)'
      : name === 'QuotaExceededError'
        ? 'no space left (free some space or pick another disk)'
        : ((e as Error)?.message ?? String(e));
  return new PolyPruneError('OUTPUT_FAILED', `Cannot write ${what}: ${why}. Nothing was kept.`, { cause: e });
}

async function has(dir: FileSystemDirectoryHandle, name: string): Promise<boolean> {
  for await (const k of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) if (k === name) return true;
  return false;
}

export async function directorySink(parent: FileSystemDirectoryHandle, name: string): Promise<ExportSink & { readonly folder: string }> {
  if (!/^[^\\/:*?"<>|]+$/.test(name) || name === '.' || name === '..') throw new PolyPruneError('BAD_ARGUMENT', `'${name}' cannot be a folder name.`);
  try {
    const perm = await (parent as unknown as { requestPermission?: (d: { mode: string }) => Promise<string> }).requestPermission?.({ mode: 'readwrite' });
    if (perm && perm !== 'granted') throw new DOMException('permission not granted', 'NotAllowedError');
    if (await has(parent, name)) throw new PolyPruneError('OUTPUT_EXISTS', `The folder '${parent.name}' already has '${name}'. Remove it or pick another folder; nothing was written.`);
  } catch (e) {
    throw fsError(e, `into '${parent.name}'`);
  }
  const canMove = typeof (parent as Movable).move === 'function';
  const workName = canMove ? `${name}.partial` : name;
  let work: FileSystemDirectoryHandle;
  try {
    if (canMove && (await has(parent, workName))) await parent.removeEntry(workName, { recursive: true });
    work = await parent.getDirectoryHandle(workName, { create: true });
  } catch (e) {
    throw fsError(e, `into '${parent.name}'`);
  }
  const st = new SinkState();
  let stream: FileSystemWritableFileStream | null = null;
  const sink = {
    folder: `${parent.name}/${name}`,
    async beginFile(file: string, size?: number) {
      st.begin(file, size);
      try {
        const parts = file.split('/');
        let d = work;
        for (const p of parts.slice(0, -1)) d = await d.getDirectoryHandle(p, { create: true });
        const fh = await d.getFileHandle(parts[parts.length - 1], { create: true });
        stream = await fh.createWritable();
      } catch (e) {
        await sink.abort();
        throw fsError(e, `'${file}'`);
      }
    },
    async write(chunk: Uint8Array) {
      const file = st.wrote(chunk.byteLength);
      try {
        await stream!.write(chunk as Uint8Array<ArrayBuffer>);
      } catch (e) {
        await sink.abort();
        throw fsError(e, `'${file}'`);
      }
    },
    async endFile() {
      const file = st.end();
      try {
        await stream!.close();
        stream = null;
      } catch (e) {
        await sink.abort();
        throw fsError(e, `'${file}'`);
      }
    },
    async commit() {
      st.commitCheck();
      try {
        if (canMove) await (work as Movable).move!(name);
      } catch (e) {
        await sink.abort();
        throw fsError(e, `'${name}'`);
      }
      st.state = 'committed';
    },
    async abort() {
      if (st.state !== 'open') return;
      st.state = 'aborted';
      const s = stream;
      stream = null;
      await s?.abort().catch(() => undefined);
      await parent.removeEntry(workName, { recursive: true }).catch(() => undefined);
    },
  };
  return sink;
}
