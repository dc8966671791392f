/**
 * Calibration text ingestion: UTF-8 files -> token streams -> seeded windows, with provenance.
 *
 * Per file:
 * - decoded as strict UTF-8 (invalid bytes -> CALIBRATION_INVALID naming the file; a leading BOM is
 *   dropped); empty (whitespace only) and binary files (a NUL byte, or more than 5 % control
 *   characters other than tab/newline/carriage return/form feed) are refused;
 * - split into paragraphs: when the file has blank lines, the blank-line-separated blocks; otherwise
 *   every non-empty line (one paragraph per line, as the fixtures' text files); CRLF/CR become LF;
 * - paragraphs joined with "\n\n" into ONE string, tokenized once without special tokens (no BOS).
 *
 * Mixing several files: file f has weight w_f (default 1). Its number of windows is
 * nsamples * w_f / sum(w) rounded by the largest-remainder method (ties to the earlier file), and its
 * windows are drawn from its own stream with seed `seed + f` (f = position in the list, so a single
 * file uses `seed` itself and reproduces wanda's sampler). Windows are concatenated file by file.
 * A file that gets k windows needs what the reference sampler needs: seqlen + 1 tokens (one start,
 * wanda's `randint(0, len - seqlen - 1)`). With fewer than k * seqlen + 1 tokens the windows overlap:
 * allowed, with a warning saying how much of the text they cover (`warnings`, and a `calibrate`
 * progress event whose message starts with 'warning: ').
 */
import { PolyPruneError, throwIfAborted } from '../common/errors';
import { decodeTextFile, firstInvalidUtf8 } from '../common/text';
import type { ProgressCallback } from '../common/progress';
import type { TextTokenizer } from '../io/tokenizer';
import { sampleWindows } from './sample';
import type { GeneratedSource } from './genSource';

export interface CalibrationText {
  /** File name (used in errors and provenance). */
  readonly name: string;
  readonly bytes: Uint8Array;
  /** Language tag for provenance, e.g. 'de'. */
  readonly language?: string;
  /** Share of the windows (relative to the other files); default 1. */
  readonly weight?: number;
  /** Text the model wrote itself: how it was written (kept in the provenance, pruning.json). */
  readonly generated?: GeneratedSource;
}

export interface CalibrationFileProvenance {
  name: string;
  language?: string;
  weight: number;
  /** Hex SHA-256 of the file's bytes. */
  sha256: string;
  bytes: number;
  paragraphs: number;
  /** Tokens in the file's stream. */
  tokens: number;
  /** Windows drawn from this file. */
  samples: number;
  seed: number;
  /** Start of each window in this file's stream. */
  offsets: number[];
  /** Set for text the model wrote itself (docs/generate.md). */
  generated?: GeneratedSource;
}

export interface Calibration {
  /** nsamples * seqlen token ids, window after window (file by file). */
  readonly ids: Int32Array;
  readonly n: number;
  readonly seqlen: number;
  readonly seed: number;
  readonly files: CalibrationFileProvenance[];
  /** Overlapping windows (a text shorter than its windows laid end to end), one line per file. */
  readonly warnings: string[];
}

export interface BuildCalibrationOptions {
  texts: readonly CalibrationText[];
  tokenizer: TextTokenizer;
  nsamples: number;
  seqlen: number;
  seed: number;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

function invalid(message: string): PolyPruneError {
  return new PolyPruneError('CALIBRATION_INVALID', message);
}

export { firstInvalidUtf8 };

/** Strict UTF-8 decode and text checks (src/common/text.ts); returns the file's paragraphs. */
export function calibrationParagraphs(name: string, bytes: Uint8Array): string[] {
  const text = decodeTextFile(name, bytes, { what: 'Calibration file', code: 'CALIBRATION_INVALID', allowEmpty: true });
  const lf = text.replace(/\r\n?/g, '\n');
  const paragraphs = /\n[ \t\f]*\n/.test(lf)
    ? lf.split(/\n(?:[ \t\f]*\n)+/).map((p) => p.replace(/^\n+|\n+$/g, ''))
    : lf.split('\n');
  const kept = paragraphs.filter((p) => p.trim().length > 0);
  if (kept.length === 0) throw invalid(`Calibration file '${name}' is empty (no text). Give a file with at least a few paragraphs of text.`);
  return kept;
}

/** Per-file window counts: nsamples * w_f / sum(w), largest remainder (ties to the earlier file). */
export function allocateSamples(nsamples: number, weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  const quotas = weights.map((w) => (nsamples * w) / total);
  const counts = quotas.map(Math.floor);
  let left = nsamples - counts.reduce((a, b) => a + b, 0);
  const order = quotas.map((q, i) => i).sort((a, b) => quotas[b] - counts[b] - (quotas[a] - counts[a]) || a - b);
  for (let k = 0; left > 0; k++, left--) counts[order[k % order.length]]++;
  return counts;
}

/** Hex SHA-256 (WebCrypto, browser and Node). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Text files -> calibration windows (see the file comment) with provenance for pruning.json. */
export async function buildCalibration(opts: BuildCalibrationOptions): Promise<Calibration> {
  const { texts, tokenizer, nsamples, seqlen, seed } = opts;
  if (!Number.isInteger(nsamples) || nsamples < 1) throw new PolyPruneError('BAD_ARGUMENT', `The number of calibration samples must be a positive integer, got ${nsamples}.`);
  if (!Number.isInteger(seqlen) || seqlen < 1) throw new PolyPruneError('BAD_ARGUMENT', `The calibration sequence length must be a positive integer, got ${seqlen}.`);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new PolyPruneError('BAD_ARGUMENT', `The calibration seed must be a non-negative integer, got ${seed}.`);
  if (texts.length === 0) throw invalid('No calibration text given. Add at least one UTF-8 text file.');
  const names = new Set<string>();
  for (const t of texts) {
    const w = t.weight ?? 1;
    if (!(typeof w === 'number' && Number.isFinite(w) && w > 0)) throw new PolyPruneError('BAD_ARGUMENT', `Calibration file '${t.name}': weight must be a positive number, got ${t.weight}.`);
    if (names.has(t.name)) throw new PolyPruneError('BAD_ARGUMENT', `Calibration file '${t.name}' is listed twice.`);
    names.add(t.name);
  }
  const weightSum = texts.reduce((a, t) => a + (t.weight ?? 1), 0);
  if (!Number.isFinite(weightSum)) {
    throw new PolyPruneError('BAD_ARGUMENT', `The calibration weights (${texts.map((t) => t.weight ?? 1).join(', ')}) add up to more than the largest number this program holds; give relative weights such as 0.7 and 0.3.`);
  }
  const warnings: string[] = [];
  const counts = allocateSamples(nsamples, texts.map((t) => t.weight ?? 1));
  const ids = new Int32Array(nsamples * seqlen);
  const files: CalibrationFileProvenance[] = [];
  let row = 0;
  for (let f = 0; f < texts.length; f++) {
    throwIfAborted(opts.signal);
    const t = texts[f];
    opts.onProgress?.({ kind: 'calibrate', message: `tokenizing ${t.name}`, done: f, total: texts.length });
    const paragraphs = calibrationParagraphs(t.name, t.bytes);
    const stream = tokenizer.encode(paragraphs.join('\n\n'), { addSpecialTokens: false });
    const k = counts[f];
    if (k > 0 && stream.length < seqlen + 1) {
      if (stream.length === 0) throw invalid(`Calibration file '${t.name}' gives no tokens with this model's tokenizer; check that the tokenizer.json belongs to the model.`);
      throw invalid(
        `Calibration file '${t.name}' is too short: a window of ${seqlen} tokens needs at least ${(seqlen + 1).toLocaleString('en-US')} tokens, but it has ${stream.length.toLocaleString('en-US')}. Add more text, or lower seqlen.`,
      );
    }
    let offsets: number[] = [];
    if (k > 0) {
      const s = sampleWindows(stream, k, seqlen, seed + f);
      ids.set(s.ids, row * seqlen);
      offsets = s.offsets;
      row += k;
      if (stream.length < k * seqlen + 1) {
        const covered = coverage(offsets, seqlen, stream.length);
        const w = `Calibration file '${t.name}' has ${stream.length.toLocaleString('en-US')} tokens, fewer than its ${k} window${k === 1 ? '' : 's'} of ${seqlen} laid end to end (${(k * seqlen + 1).toLocaleString('en-US')}): the windows overlap (as wanda's sampler allows) and cover ${(100 * covered).toFixed(1)} % of the text. Add text for independent windows.`;
        warnings.push(w);
        opts.onProgress?.({ kind: 'calibrate', message: `warning: ${w}`, done: f, total: texts.length });
      }
    }
    files.push({
      name: t.name,
      ...(t.language !== undefined ? { language: t.language } : {}),
      weight: t.weight ?? 1,
      sha256: await sha256Hex(t.bytes),
      bytes: t.bytes.byteLength,
      paragraphs: paragraphs.length,
      tokens: stream.length,
      samples: k,
      seed: seed + f,
      offsets,
      ...(t.generated ? { generated: t.generated } : {}),
    });
  }
  opts.onProgress?.({ kind: 'calibrate', message: 'calibration windows ready', done: texts.length, total: texts.length });
  return { ids, n: nsamples, seqlen, seed, files, warnings };
}

/** Share of the stream's tokens inside at least one window. */
function coverage(offsets: readonly number[], seqlen: number, length: number): number {
  const sorted = [...offsets].sort((a, b) => a - b);
  let covered = 0;
  let end = 0;
  for (const o of sorted) {
    const a = Math.max(o, end);
    const b = o + seqlen;
    if (b > a) covered += b - a;
    end = Math.max(end, b);
  }
  return length ? covered / length : 0;
}
