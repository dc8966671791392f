/**
 * Share links: one result record in the URL fragment (`#r=...`, never sent to a server).
 *
 *   fragment = "r=" FORMAT "." base64url(zlib(deflate(UTF-8 JSON of the record)))
 *
 * FORMAT is {@link SHARE_FORMAT} (a decimal integer) and comes first, so a link made by a newer
 * PolyPrune is recognised before anything else is decoded. zlib's Adler-32 trailer is checked, so a
 * truncated or edited link is refused instead of showing numbers that were never measured. The
 * decoded JSON is then validated by the record parser (zod), which also refuses records written by a
 * newer schema version.
 */
import { unzlibSync, zlibSync, strFromU8, strToU8 } from 'fflate';
import { PolyPruneError } from '../common/errors';
import { fmtBytes } from '../common/format';
import { parseResultRecord, type ResultRecord } from './records';

/** Format of the fragment itself (encoding and compression), not of the record inside it. */
export const SHARE_FORMAT = 1;
/** The fragment key: `#r=...`. */
export const SHARE_KEY = 'r';
/** Largest link PolyPrune makes or opens, in characters (the whole URL, base included). */
export const SHARE_MAX_CHARS = 16 * 1024;
/** Largest decoded record: guards against a link that inflates to something huge. */
const MAX_JSON_BYTES = 8 * 1024 * 1024;

/** Validates a decoded value as a record; throws PolyPruneError with a one-line message otherwise. */
export type RecordParser<R> = (value: unknown) => R;

export function bytesToBase64Url(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Strict base64url (no padding, no other characters); null when it is not. */
export function base64UrlToBytes(s: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) return null;
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4);
  let bin: string;
  try {
    bin = atob(b64);
  } catch {
    return null;
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < data.length; ) {
    const end = Math.min(i + 5552, data.length);
    for (; i < end; i++) {
      a += data[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** The fragment (without '#') for a record: `r=1.<base64url>`. */
export function encodeShareFragment(record: unknown): string {
  const json = JSON.stringify(record);
  const packed = zlibSync(strToU8(json), { level: 9 });
  return `${SHARE_KEY}=${SHARE_FORMAT}.${bytesToBase64Url(packed)}`;
}

/**
 * The full link for a record: `base` (the app's URL; any fragment it has is dropped) plus
 * `#r=...`. Refuses records whose link would be longer than {@link SHARE_MAX_CHARS}.
 */
export function shareLink(record: unknown, base: string): string {
  const link = `${base.replace(/#.*$/, '')}#${encodeShareFragment(record)}`;
  if (link.length > SHARE_MAX_CHARS) {
    throw new PolyPruneError(
      'SHARE_TOO_LARGE',
      `This result needs a ${fmtBytes(link.length)} link; share links are limited to ${fmtBytes(SHARE_MAX_CHARS)}. Export it as a JSON file from History instead, or share a smaller grid.`,
    );
  }
  return link;
}

/** The `r=` payload of a URL, a fragment (`#r=...` or `r=...`) or null when it holds none. */
export function sharePayload(urlOrFragment: string): string | null {
  const hash = urlOrFragment.includes('#') ? urlOrFragment.slice(urlOrFragment.indexOf('#') + 1) : urlOrFragment;
  for (const part of hash.split('&')) {
    if (part.startsWith(`${SHARE_KEY}=`)) return part.slice(SHARE_KEY.length + 1);
  }
  return null;
}

const BROKEN = 'This share link is damaged (truncated or edited): ';

/**
 * Decode a share link, a URL fragment or the bare payload back into a record. Every failure is a
 * PolyPruneError with a one-line message: SHARE_INVALID (damaged link, wrong shape),
 * SHARE_NEWER (made by a newer PolyPrune), SHARE_TOO_LARGE (over the limit).
 */
export function decodeShareLink<R>(input: string, parse: RecordParser<R>): R {
  const text = input.trim();
  if (text.length > SHARE_MAX_CHARS) {
    throw new PolyPruneError('SHARE_TOO_LARGE', `This share link is ${fmtBytes(text.length)}, over the ${fmtBytes(SHARE_MAX_CHARS)} that PolyPrune makes and opens.`);
  }
  const payload = text.includes('#') || text.startsWith(`${SHARE_KEY}=`) ? sharePayload(text) : text;
  if (payload === null) throw new PolyPruneError('SHARE_INVALID', `This is not a PolyPrune share link (it has no '#${SHARE_KEY}=' part).`);
  const dot = payload.indexOf('.');
  const version = dot > 0 ? payload.slice(0, dot) : '';
  if (!/^\d+$/.test(version)) throw new PolyPruneError('SHARE_INVALID', `${BROKEN}it does not start with a format version. Ask for the link again.`);
  if (Number(version) > SHARE_FORMAT) {
    throw new PolyPruneError('SHARE_NEWER', `This share link was made by a newer PolyPrune (link format ${version}; this version reads format ${SHARE_FORMAT}). Open it with the newer version.`);
  }
  if (Number(version) < 1) throw new PolyPruneError('SHARE_INVALID', `${BROKEN}unknown link format ${version}.`);
  const bytes = base64UrlToBytes(payload.slice(dot + 1));
  if (!bytes || bytes.length < 6) throw new PolyPruneError('SHARE_INVALID', `${BROKEN}it is not valid base64url. Ask for the link again.`);
  let raw: Uint8Array;
  try {
    raw = unzlibSync(bytes);
  } catch {
    throw new PolyPruneError('SHARE_INVALID', `${BROKEN}the compressed data does not decode. Ask for the link again.`);
  }
  const tail = bytes.subarray(bytes.length - 4);
  const stored = ((tail[0] << 24) | (tail[1] << 16) | (tail[2] << 8) | tail[3]) >>> 0;
  if (stored !== adler32(raw)) throw new PolyPruneError('SHARE_INVALID', `${BROKEN}its checksum does not match. Ask for the link again.`);
  if (raw.length > MAX_JSON_BYTES) throw new PolyPruneError('SHARE_INVALID', `${BROKEN}it decodes to more than ${MAX_JSON_BYTES / 1024 / 1024} MB.`);
  let value: unknown;
  try {
    value = JSON.parse(strFromU8(raw));
  } catch {
    throw new PolyPruneError('SHARE_INVALID', `${BROKEN}it does not hold JSON.`);
  }
  return parse(value);
}

// ------------------------------------------------------------------ result records

/**
 * What a link carries: `{ record, omitted }`. Per-layer detail (reconstruction error per matrix,
 * mask overlap between rows) can be far larger than the results themselves; when the whole record
 * does not fit in {@link SHARE_MAX_CHARS}, the link leaves it out (mask overlap first, then
 * reconstruction error) and says so in `omitted`, so the page can tell the reader.
 */
export type OmittedDetail = 'iou' | 'recon';

export interface SharedResult {
  record: ResultRecord;
  /** Detail left out of the link to fit it (shown as such on the page). */
  omitted: OmittedDetail[];
}

export const OMITTED_TEXT: Record<OmittedDetail, string> = {
  iou: 'mask overlap between rows',
  recon: 'per-layer reconstruction error',
};

function withoutDetail(rec: ResultRecord, omit: readonly OmittedDetail[]): ResultRecord {
  if (!omit.length) return rec;
  if (rec.kind === 'experiment') {
    return {
      ...rec,
      iou: omit.includes('iou') ? [] : rec.iou,
      rows: omit.includes('recon') ? rec.rows.map((r) => ({ ...r, recon: r.recon.map(() => null) })) : rec.rows,
    };
  }
  if (rec.kind === 'prune' && omit.includes('recon')) return { ...rec, recon: null };
  return rec;
}

/**
 * The share link of a record: the whole record when it fits, else without mask overlap, else also
 * without per-layer reconstruction error. SHARE_TOO_LARGE when even that does not fit.
 */
export function recordShareLink(rec: ResultRecord, base: string): { link: string; omitted: OmittedDetail[] } {
  const tries: OmittedDetail[][] = [[], ['iou'], ['iou', 'recon']];
  let last: unknown;
  for (const omitted of tries) {
    try {
      return { link: shareLink({ record: withoutDetail(rec, omitted), ...(omitted.length ? { omitted } : {}) }, base), omitted };
    } catch (e) {
      if (!(e instanceof PolyPruneError && e.code === 'SHARE_TOO_LARGE')) throw e;
      last = e;
    }
  }
  throw last;
}

/** Decode a link made by {@link recordShareLink}; errors as {@link decodeShareLink}. */
export function decodeRecordLink(input: string): SharedResult {
  return decodeShareLink(input, (value) => {
    const env = value as { record?: unknown; omitted?: unknown } | null;
    if (typeof env !== 'object' || env === null || !('record' in env)) throw new PolyPruneError('SHARE_INVALID', 'This share link holds no PolyPrune result.');
    const omitted = Array.isArray(env.omitted) ? env.omitted.filter((x): x is OmittedDetail => x === 'iou' || x === 'recon') : [];
    try {
      return { record: parseResultRecord(env.record), omitted };
    } catch (e) {
      const newer = e instanceof PolyPruneError && e.code === 'RECORD_NEWER';
      throw new PolyPruneError(newer ? 'SHARE_NEWER' : 'SHARE_INVALID', `This share link holds no valid result. ${(e as Error).message}`);
    }
  });
}
