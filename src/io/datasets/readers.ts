/**
 * Documents out of dataset files, reading no more bytes than the documents asked for:
 * - gzip JSON lines (mC4's `*.json.gz`): the HTTP body streams through `DecompressionStream('gzip')`
 *   and stops (the request is cancelled) as soon as the consumer has enough; a body cut midway is
 *   resumed with a Range request from the byte where it stopped (3 times), then refused. A file that
 *   ends inside a gzip member is refused too: never a silently short text.
 * - parquet (FineWeb-2, Wikipedia, the Hub's parquet conversion of any dataset): the footer, then one
 *   row group at a time, each read with HTTP Range requests for the one column's chunk (hyparquet,
 *   with hyparquet-compressors for ZSTD, GZIP, BROTLI and LZ4).
 */
import { parquetMetadataAsync, parquetRead, type AsyncBuffer, type FileMetaData, type SchemaElement } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { PolyPruneError } from '../../common/errors';
import type { FetchFn } from '../source';

export interface ReadContext {
  fetchFn: FetchFn;
  headers: Record<string, string>;
  signal?: AbortSignal;
  /** Called with the number of body bytes received, as they arrive. */
  onBytes?: (n: number) => void;
  /** Turns a refused answer into one message (dataset name, token hint). */
  refused: (res: Response) => PolyPruneError;
}

const RETRIES = 3;

function cutError(name: string, received: number, why: string): PolyPruneError {
  return new PolyPruneError('FETCH_FAILED', `The download of ${name} was cut off after ${received} bytes (${why}) and could not be resumed ${RETRIES} times; nothing from it was used. Try again, or check the network connection.`);
}

/** Text documents of one gzip JSON-lines file, in file order; `field` is the text field (mC4: `text`). */
export async function* jsonGzDocuments(url: string, name: string, field: string, ctx: ReadContext): AsyncGenerator<string> {
  const ds = new DecompressionStream('gzip');
  const writer = ds.writable.getWriter();
  const reader = ds.readable.pipeThrough(new TextDecoderStream('utf-8', { fatal: true })).getReader();
  const net = new AbortController();
  const onAbort = () => net.abort(ctx.signal?.reason);
  ctx.signal?.addEventListener('abort', onAbort);
  let received = 0;
  let pumpError: unknown = null;
  // network -> decompressor, resuming a cut body with Range from the byte where it stopped
  const pump = (async () => {
    let tries = 0;
    for (;;) {
      const headers: Record<string, string> = { ...ctx.headers, ...(received > 0 ? { Range: `bytes=${received}-` } : {}) };
      let res: Response;
      try {
        res = await ctx.fetchFn(url, { headers, signal: net.signal });
      } catch (e) {
        if (net.signal.aborted) return;
        if (++tries > RETRIES) throw cutError(name, received, (e as Error)?.message ?? String(e));
        continue;
      }
      if (!res.ok) throw ctx.refused(res);
      if (received > 0 && res.status !== 206) throw cutError(name, received, 'the server does not resume with Range');
      const body = res.body!.getReader();
      try {
        for (;;) {
          const { done, value } = await body.read();
          if (done) break;
          received += value.byteLength;
          ctx.onBytes?.(value.byteLength);
          await writer.write(value);
        }
        await writer.close();
        return;
      } catch (e) {
        if (net.signal.aborted) return;
        if (e instanceof TypeError && /gzip|compress|zlib|incorrect header|invalid/i.test(e.message) && !/terminated|socket|network|fetch/i.test(e.message)) throw e;
        if (++tries > RETRIES) throw cutError(name, received, (e as Error)?.message ?? String(e));
      }
    }
  })().catch((e: unknown) => {
    pumpError = e;
    void writer.abort(e).catch(() => undefined);
  });
  let carry = '';
  let line = 0;
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<string>;
      try {
        chunk = await reader.read();
      } catch (e) {
        if (pumpError) throw pumpError;
        if (ctx.signal?.aborted) throw e;
        throw new PolyPruneError('DATASET_FORMAT', `${name} is not a complete gzip file of UTF-8 JSON lines (${(e as Error)?.message ?? String(e)} after ${received} bytes); nothing from it was used.`);
      }
      if (chunk.done) break;
      carry += chunk.value;
      let nl: number;
      while ((nl = carry.indexOf('\n')) >= 0) {
        const l = carry.slice(0, nl);
        carry = carry.slice(nl + 1);
        line++;
        if (l.trim()) yield docOf(l, name, line, field);
      }
    }
    if (pumpError) throw pumpError;
    line++;
    if (carry.trim()) yield docOf(carry, name, line, field);
  } finally {
    ctx.signal?.removeEventListener('abort', onAbort);
    net.abort();
    void reader.cancel().catch(() => undefined);
    await pump;
  }
}

function docOf(l: string, name: string, line: number, field: string): string {
  let o: unknown;
  try {
    o = JSON.parse(l);
  } catch {
    throw new PolyPruneError('DATASET_FORMAT', `${name} line ${line} is not JSON; the file is damaged. Clear the dataset cache and try again.`);
  }
  const v = (o as Record<string, unknown>)?.[field];
  if (typeof v !== 'string') throw new PolyPruneError('DATASET_FORMAT', `${name} line ${line} has no text field '${field}' (fields: ${Object.keys(o ?? {}).join(', ') || 'none'}).`);
  return v;
}

/** An AsyncBuffer over HTTP Range requests; a short or cut answer is asked again, then refused. */
export function rangeBuffer(url: string, name: string, byteLength: number, ctx: ReadContext): AsyncBuffer {
  return {
    byteLength,
    async slice(start: number, end = byteLength): Promise<ArrayBuffer> {
      const want = end - start;
      if (want <= 0) return new ArrayBuffer(0);
      let last = '';
      for (let tries = 0; tries <= RETRIES; tries++) {
        let res: Response;
        try {
          res = await ctx.fetchFn(url, { headers: { ...ctx.headers, Range: `bytes=${start}-${end - 1}` }, signal: ctx.signal });
        } catch (e) {
          if ((e as Error)?.name === 'AbortError') throw e;
          last = (e as Error)?.message ?? String(e);
          continue;
        }
        if (!res.ok) throw ctx.refused(res);
        let buf: ArrayBuffer;
        try {
          buf = await res.arrayBuffer();
        } catch (e) {
          if ((e as Error)?.name === 'AbortError') throw e;
          last = (e as Error)?.message ?? String(e);
          continue;
        }
        ctx.onBytes?.(buf.byteLength);
        if (res.status === 206 && buf.byteLength === want) return buf;
        if (res.status === 200 && buf.byteLength === byteLength) return buf.slice(start, end);
        last = `${buf.byteLength} of ${want} bytes`;
      }
      throw cutError(name, 0, last);
    },
  };
}

const READABLE_CODECS = new Set(['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'BROTLI', 'LZ4', 'LZ4_RAW', 'ZSTD']);

function isText(el: SchemaElement): boolean {
  return el.type === 'BYTE_ARRAY' && (el.converted_type === 'UTF8' || el.logical_type?.type === 'STRING' || el.converted_type === 'JSON');
}

function parquetFailure(name: string, e: unknown): PolyPruneError {
  if (e instanceof PolyPruneError) return e;
  const msg = (e as Error)?.message ?? String(e);
  return new PolyPruneError('DATASET_FORMAT', `${name} is not a readable parquet file (${msg.replace(/^parquet /, '')}); nothing from it was used.`);
}

/** The footer of a parquet file (its last 16 KiB first, then the rest of the metadata if longer). */
export async function parquetMeta(buf: AsyncBuffer, name: string): Promise<FileMetaData> {
  try {
    return await parquetMetadataAsync(buf, { initialFetchSize: Math.min(1 << 14, buf.byteLength) });
  } catch (e) {
    throw parquetFailure(name, e);
  }
}

/** Checks that `columns` exist; `textColumn` must hold strings. Lists what is there otherwise. */
export function checkColumns(meta: FileMetaData, name: string, columns: readonly string[], textColumn?: string): void {
  const top = meta.schema.slice(1).filter((el) => el.name);
  const names = top.map((el) => el.name);
  for (const c of columns) {
    if (!names.includes(c)) throw new PolyPruneError('BAD_ARGUMENT', `${name} has no column '${c}'. Columns: ${names.join(', ')}.`);
  }
  if (textColumn) {
    const el = top.find((e) => e.name === textColumn)!;
    if (!isText(el)) {
      const textCols = top.filter(isText).map((e) => e.name);
      throw new PolyPruneError('BAD_ARGUMENT', `Column '${textColumn}' of ${name} is not text (it holds ${el.logical_type?.type ?? el.converted_type ?? el.type ?? 'nested values'}). Text columns: ${textCols.join(', ') || 'none'}.`);
    }
  }
  for (const rg of meta.row_groups) {
    for (const col of rg.columns) {
      const codec = col.meta_data?.codec;
      if (codec && !READABLE_CODECS.has(codec) && columns.includes(col.meta_data!.path_in_schema[0])) {
        throw new PolyPruneError('DATASET_FORMAT', `${name} is compressed with ${codec}, which PolyPrune's parquet reader cannot decode (it reads ${[...READABLE_CODECS].join(', ')}).`);
      }
    }
  }
}

/** Rows of one row group, only `columns`, as objects. */
export async function parquetRowGroup(buf: AsyncBuffer, meta: FileMetaData, group: number, columns: readonly string[], name: string): Promise<Record<string, unknown>[]> {
  let start = 0;
  for (let g = 0; g < group; g++) start += Number(meta.row_groups[g].num_rows);
  const end = start + Number(meta.row_groups[group].num_rows);
  try {
    let rows: Record<string, unknown>[] = [];
    await parquetRead({ file: buf, metadata: meta, columns: [...columns], rowStart: start, rowEnd: end, compressors, rowFormat: 'object', onComplete: (r) => (rows = r) });
    return rows;
  } catch (e) {
    if ((e as Error)?.name === 'AbortError') throw e;
    throw parquetFailure(name, e);
  }
}

/** Text documents of a parquet file's `column`, row group by row group. */
export async function* parquetDocuments(buf: AsyncBuffer, name: string, column: string): AsyncGenerator<string> {
  const meta = await parquetMeta(buf, name);
  checkColumns(meta, name, [column], column);
  for (let g = 0; g < meta.row_groups.length; g++) {
    for (const row of await parquetRowGroup(buf, meta, g, [column], name)) {
      const v = row[column];
      if (typeof v === 'string' && v.trim()) yield v;
    }
  }
}
