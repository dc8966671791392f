/**
 * Where exported files go, one chunk at a time: an {@link ExportSink} receives files as
 * beginFile / write / endFile, then commit() makes them visible at once, or abort() removes
 * everything. The exporters hand over one tensor at a time, so a sink that does not buffer keeps
 * peak memory at about one tensor.
 *
 * Sinks here work in the browser and in Node: an in-memory sink (tests, small files) and a zip
 * stream (fflate's streaming `Zip`; weights stored with `ZipPassThrough`, JSON deflated) whose
 * bytes go to a callback. The disk-folder sink is in ./node.ts, the browser folder sink
 * (File System Access API) in ./fsaccess.ts.
 */
import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';
import { PolyPruneError } from '../common/errors';

export interface ExportSink {
  /**
   * Start a file. `name` is relative with '/' separators ('config.json', 'onnx/model.onnx');
   * `size`, when given, is the exact byte count that will follow.
   */
  beginFile(name: string, size?: number): Promise<void>;
  /** Append bytes to the open file. The sink may keep `chunk` until the call resolves, not after. */
  write(chunk: Uint8Array): Promise<void>;
  /** Close the open file. */
  endFile(): Promise<void>;
  /** Make every file visible at the destination at once (or finish the stream). */
  commit(): Promise<void>;
  /** Discard everything; nothing that looks like a complete export is left behind. */
  abort(): Promise<void>;
}

/** Checks an export path: relative, '/'-separated, plain names (letters, digits, '.', '_', '-'). */
export function checkExportName(name: string): void {
  const parts = name.split('/');
  if (!parts.every((p) => /^[A-Za-z0-9._-]+$/.test(p) && p !== '.' && p !== '..')) {
    throw new PolyPruneError('INTERNAL', `Invalid export file name '${name}'`);
  }
}

/** Write one whole file (consecutive chunks) into `sink`. */
export async function writeWholeFile(sink: ExportSink, name: string, chunks: readonly Uint8Array[]): Promise<void> {
  await sink.beginFile(name, chunks.reduce((a, c) => a + c.byteLength, 0));
  for (const c of chunks) await sink.write(c);
  await sink.endFile();
}

/**
 * Tracks the state every sink shares: one open file at a time, nothing after commit/abort, and the
 * declared size of a file matches what was written.
 */
export class SinkState {
  state: 'open' | 'committed' | 'aborted' = 'open';
  file: { name: string; size?: number; written: number } | null = null;

  begin(name: string, size?: number): void {
    this.assertOpen(`beginFile('${name}')`);
    if (this.file) throw new PolyPruneError('INTERNAL', `beginFile('${name}') while '${this.file.name}' is still open`);
    checkExportName(name);
    this.file = { name, size, written: 0 };
  }
  wrote(n: number): string {
    this.assertOpen('write');
    if (!this.file) throw new PolyPruneError('INTERNAL', 'write() outside beginFile/endFile');
    this.file.written += n;
    if (this.file.size !== undefined && this.file.written > this.file.size) {
      throw new PolyPruneError('INTERNAL', `'${this.file.name}': more than the declared ${this.file.size} bytes written`);
    }
    return this.file.name;
  }
  end(): string {
    this.assertOpen('endFile');
    const f = this.file;
    if (!f) throw new PolyPruneError('INTERNAL', 'endFile() without beginFile');
    if (f.size !== undefined && f.written !== f.size) throw new PolyPruneError('INTERNAL', `'${f.name}': ${f.written} bytes written, ${f.size} declared`);
    this.file = null;
    return f.name;
  }
  commitCheck(): void {
    this.assertOpen('commit');
    if (this.file) throw new PolyPruneError('INTERNAL', `commit() while '${this.file.name}' is still open`);
  }
  assertOpen(what: string): void {
    if (this.state !== 'open') throw new PolyPruneError('INTERNAL', `${what} after ${this.state}`);
  }
}

/** An in-memory sink (tests, small exports): `files` fills on commit. */
export function memorySink(): ExportSink & { files: Map<string, Uint8Array>; readonly state: SinkState['state'] } {
  const st = new SinkState();
  const pending = new Map<string, Uint8Array[]>();
  const files = new Map<string, Uint8Array>();
  return {
    files,
    get state() {
      return st.state;
    },
    async beginFile(name, size) {
      st.begin(name, size);
      pending.set(name, []);
    },
    async write(chunk) {
      pending.get(st.wrote(chunk.byteLength))!.push(chunk.slice());
    },
    async endFile() {
      st.end();
    },
    async commit() {
      st.commitCheck();
      for (const [k, chunks] of pending) {
        const out = new Uint8Array(chunks.reduce((a, c) => a + c.byteLength, 0));
        let o = 0;
        for (const c of chunks) {
          out.set(c, o);
          o += c.byteLength;
        }
        files.set(k, out);
      }
      pending.clear();
      st.state = 'committed';
    },
    async abort() {
      pending.clear();
      if (st.state === 'open') st.state = 'aborted';
    },
  };
}

export interface ZipSinkOptions {
  /**
   * Receives the zip bytes in order; `final` is true for the last call (after commit). May return a
   * promise (back-pressure: the exporter waits for it). Bytes arriving before commit are not a
   * complete archive: the zip's central directory is written only by commit().
   */
  onData(chunk: Uint8Array, final: boolean): void | Promise<void>;
  /** Called by abort() so the consumer can drop what it received. */
  onAbort?(): void | Promise<void>;
}

/** Zip offsets are 32-bit without ZIP64; keep room for the central directory. */
const ZIP32_LIMIT = 2 ** 32 - 2 ** 24;

/**
 * Every entry's modification time. Zip stores local wall-clock fields (fflate reads them with the
 * Date's local getters), so a date built from local fields gives the same bytes in every time zone;
 * with it the same export is the same zip, byte for byte (a hash of it identifies the model). The
 * files themselves carry no timestamps (src/export/hf.ts). February rather than January 1980, the
 * format's first day, as reproducible-build tools do, so no reader's time zone takes it before 1980.
 */
const ZIP_ENTRY_TIME = new Date(1980, 1, 1, 0, 0, 0);

/**
 * A streamed zip. Files whose names end in .safetensors, .onnx or .onnx_data* are stored
 * (ZipPassThrough: deflating weights costs minutes and saves little); everything else is deflated.
 */

export function zipSink(opts: ZipSinkOptions): ExportSink & { readonly bytes: number } {
  const st = new SinkState();
  let bytes = 0;
  let failure: unknown = null;
  let queue: Promise<void> = Promise.resolve();
  const zip = new Zip((err, data, final) => {
    if (err) {
      failure ??= err;
      return;
    }
    bytes += data.byteLength;
    queue = queue.then(() => opts.onData(data, final));
    queue.catch((e: unknown) => {
      failure ??= e;
    });
  });
  let entry: ZipPassThrough | ZipDeflate | null = null;
  const settle = async (): Promise<void> => {
    await queue;
    if (failure) throw failure instanceof Error ? failure : new PolyPruneError('INTERNAL', `zip stream failed: ${String(failure)}`);
  };
  return {
    get bytes() {
      return bytes;
    },
    async beginFile(name, size) {
      st.begin(name, size);
      entry = /\.(safetensors|onnx|onnx_data(_\d+)?)$/.test(name) ? new ZipPassThrough(name) : new ZipDeflate(name, { level: 6 });
      entry.mtime = ZIP_ENTRY_TIME;
      zip.add(entry);
    },
    async write(chunk) {
      st.wrote(chunk.byteLength);
      if (bytes + chunk.byteLength > ZIP32_LIMIT) {
        throw new PolyPruneError('BAD_ARGUMENT', 'The zip would pass 4 GiB, the limit of zip files without ZIP64 (not supported by the zip writer); export to a folder instead.');
      }
      entry!.push(chunk, false);
      await settle();
    },
    async endFile() {
      st.end();
      entry!.push(new Uint8Array(0), true);
      entry = null;
      await settle();
    },
    async commit() {
      st.commitCheck();
      zip.end();
      await settle();
      st.state = 'committed';
    },
    async abort() {
      if (st.state !== 'open') return;
      st.state = 'aborted';
      zip.terminate();
      await queue.catch(() => undefined);
      await opts.onAbort?.();
    },
  };
}

/**
 * A zip sink that collects the archive as a Blob (browser downloads). Chunks are merged into Blob
 * parts of `partBytes` (browsers keep large Blobs out of the JavaScript heap, Chrome on disk), so
 * the page holds at most about one part plus one tensor in memory.
 */
export function blobZipSink(partBytes = 64 * 2 ** 20): ExportSink & { result(): Blob } {
  let parts: Blob[] = [];
  let pending: Uint8Array<ArrayBuffer>[] = [];
  let pendingBytes = 0;
  let blob: Blob | null = null;
  const flush = (): void => {
    if (pending.length) parts = [new Blob([...parts, ...pending])];
    pending = [];
    pendingBytes = 0;
  };
  const sink = zipSink({
    onData(chunk, final) {
      pending.push(chunk.buffer instanceof ArrayBuffer ? (chunk as Uint8Array<ArrayBuffer>) : chunk.slice());
      pendingBytes += chunk.byteLength;
      if (pendingBytes >= partBytes || final) flush();
      if (final) blob = new Blob(parts, { type: 'application/zip' });
    },
    onAbort() {
      parts = [];
      pending = [];
    },
  });
  return Object.assign(sink, {
    result(): Blob {
      if (!blob) throw new PolyPruneError('INTERNAL', 'The zip is not complete (commit() was not called or failed).');
      return blob;
    },
  });
}
