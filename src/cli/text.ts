import { decodeTextFile } from '../common/text';
import { readRegularFile } from '../io/node';
import { fmtBytes } from '../common/format';
import { MAX_TEXT_FILE_BYTES } from '../io/limits';
import { DEFAULT_MAX_SOURCE_BYTES } from '../calib/sources';

/** UTF-8 decode with the shared text checks (src/common/text.ts): no U+FFFD, no binary, not empty. */
export function decodeUtf8Strict(bytes: Uint8Array, name: string, what = 'Text file'): string {
  return decodeTextFile(name, bytes, { what });
}

/**
 * A text file named on the command line (--text, --data, --eval, --task): regular files only (a FIFO
 * or /dev/zero is refused, never waited on), at most MAX_TEXT_FILE_BYTES (src/io/limits.ts).
 */
export async function readTextArg(file: string, what = 'Text file'): Promise<Uint8Array> {
  return (await readRegularFile(file, { what, maxBytes: MAX_TEXT_FILE_BYTES })).bytes;
}

/**
 * The start of a text file, enough for `tokens` tokens (64 bytes a token, at least the app's
 * 4 MiB): what perplexity with --max-windows and calibration windows need, so a file of hundreds
 * of MB is never read or tokenized whole. `warn` gets one line when the file was cut.
 */
export async function readTextHead(file: string, tokens: number, what: string, warn: (line: string) => void): Promise<Uint8Array> {
  const cap = Math.min(MAX_TEXT_FILE_BYTES, Math.max(DEFAULT_MAX_SOURCE_BYTES, tokens * 64));
  const r = await readRegularFile(file, { what, maxBytes: cap, head: true });
  if (r.capped) warn(`${what} ${file} is ${fmtBytes(r.size)}; its first ${fmtBytes(r.bytes.byteLength)} (start of the file) are used, more than the ${tokens.toLocaleString('en-US')} tokens needed.`);
  return r.bytes;
}
