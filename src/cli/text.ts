import { decodeTextFile } from '../common/text';

/** UTF-8 decode with the shared text checks (src/common/text.ts): no U+FFFD, no binary, not empty. */
export function decodeUtf8Strict(bytes: Uint8Array, name: string, what = 'Text file'): string {
  return decodeTextFile(name, bytes, { what });
}
