import { PolyPruneError } from '../common/errors';

/** UTF-8 decode that refuses invalid input instead of inserting U+FFFD. */
export function decodeUtf8Strict(bytes: Uint8Array, name: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new PolyPruneError('BAD_ARGUMENT', `'${name}' is not valid UTF-8 text. Convert it first (e.g. iconv -f latin1 -t utf-8).`);
  }
}
