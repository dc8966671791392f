/**
 * The one text check for every way text comes in (CLI --text/--calib/--data, the app's "Your own
 * text", calibration files): strict UTF-8 (no silent U+FFFD), not binary (NUL bytes, image or
 * archive signatures, or more than 5 % control characters), not empty. Pure functions, no imports
 * beyond the error type, so UI, CLI and engine share them.
 */
import { PolyPruneError, type ErrorCode } from './errors';

/** Byte offset of the first byte that does not start a valid UTF-8 sequence (bytes.length if none). */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    // continuation bytes and the smallest code point each lead byte may encode (no overlongs)
    const n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
    if (n === 0) return i;
    const min = n === 1 ? 0x80 : n === 2 ? 0x800 : 0x10000;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || (d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return i;
}

/** File signatures of common binary formats someone might rename to .txt. */
const SIGNATURES: [string, number[]][] = [
  ['a PNG image', [0x89, 0x50, 0x4e, 0x47]],
  ['a JPEG image', [0xff, 0xd8, 0xff]],
  ['a GIF image', [0x47, 0x49, 0x46, 0x38]],
  ['a PDF document', [0x25, 0x50, 0x44, 0x46, 0x2d]],
  ['a ZIP archive (or .docx/.xlsx)', [0x50, 0x4b, 0x03, 0x04]],
  ['a gzip archive', [0x1f, 0x8b]],
];

export interface TextCheckOptions {
  /** Noun for messages: 'Text file', 'Calibration file', 'Task file'. */
  what?: string;
  /** Error code (default BAD_ARGUMENT; calibration uses CALIBRATION_INVALID). */
  code?: ErrorCode;
  /** Allow whitespace-only text (default false). */
  allowEmpty?: boolean;
}

/** Refuses text that decoded but is not prose: NUL bytes, mostly control characters, or empty. */
export function checkTextContent(name: string, text: string, opts: TextCheckOptions = {}): void {
  const what = opts.what ?? 'Text file';
  const fail = (m: string): PolyPruneError => new PolyPruneError(opts.code ?? 'BAD_ARGUMENT', m);
  if (text.includes('\0')) throw fail(`${what} '${name}' looks binary (it contains NUL bytes). Use a plain-text (.txt) file.`);
  let control = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12) || (c >= 0x7f && c < 0xa0)) control++;
  }
  if (control > 0.05 * text.length) {
    throw fail(`${what} '${name}' looks binary (${control} of ${text.length} characters are control characters). Use a plain-text (.txt) file.`);
  }
  if (!opts.allowEmpty && text.trim().length === 0) throw fail(`${what} '${name}' is empty (no text).`);
}

/** Strict UTF-8 decode plus {@link checkTextContent}; a leading BOM is dropped. */
export function decodeTextFile(name: string, bytes: Uint8Array, opts: TextCheckOptions = {}): string {
  const what = opts.what ?? 'Text file';
  const fail = (m: string): PolyPruneError => new PolyPruneError(opts.code ?? 'BAD_ARGUMENT', m);
  for (const [kind, sig] of SIGNATURES) {
    if (bytes.length >= sig.length && sig.every((b, i) => bytes[i] === b)) throw fail(`${what} '${name}' is ${kind}, not text. Use a plain-text (.txt) file.`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    const hint = bytes.some((b) => b === 0) ? '' : ' If it is Latin-1 or another legacy encoding, convert it first (e.g. iconv -f latin1 -t utf-8).';
    throw fail(`${what} '${name}' is not valid UTF-8 text (invalid byte sequence at byte offset ${at}).${hint} Save it as UTF-8 plain text.`);
  }
  checkTextContent(name, text, opts);
  return text;
}

/**
 * A name or label safe to print on a terminal: C0/C1 control characters (ESC of OSC/CSI sequences,
 * BEL, carriage return, ...) and the bidirectional overrides written as \u{..} escapes.
 */
export function escapeControls(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}
