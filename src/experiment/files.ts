/**
 * Files a shared result needs for a re-run that cannot travel in its link (calibration text the user
 * dropped): they are named by name, size and SHA-256, and only files with those hashes are accepted.
 */
import { PolyPruneError } from '../common/errors';
import { sha256Hex } from '../calib/text';

export interface NeededFile {
  name: string;
  bytes: number;
  /** Lower-case hex SHA-256 of the file's bytes. */
  sha256: string;
}

/** Something with a name and bytes (a browser File, or a test double). */
export interface GivenFile {
  name: string;
  bytes: Uint8Array;
}

/**
 * Match given files to the needed ones by hash (names may differ: a file is the same file when its
 * bytes are). Returns the text of each needed file in order; any given file whose hash is not needed
 * is refused with HASH_MISMATCH naming it, and any needed file still missing is named too.
 */
export async function matchNeededFiles(needed: readonly NeededFile[], given: readonly GivenFile[]): Promise<Map<string, Uint8Array>> {
  const byHash = new Map<string, Uint8Array>();
  for (const f of given) {
    const h = await sha256Hex(f.bytes);
    const want = needed.find((n) => n.sha256 === h);
    if (!want) {
      const sameName = needed.find((n) => n.name === f.name);
      throw new PolyPruneError(
        'HASH_MISMATCH',
        sameName
          ? `'${f.name}' is not the file this result was calibrated with: its SHA-256 is ${h.slice(0, 12)}… (${f.bytes.length} bytes), the result needs ${sameName.sha256.slice(0, 12)}… (${sameName.bytes} bytes).`
          : `'${f.name}' (SHA-256 ${h.slice(0, 12)}…) is not one of the files this result needs: ${needed.map((n) => `${n.name} (${n.bytes} bytes, ${n.sha256.slice(0, 12)}…)`).join(', ')}.`,
      );
    }
    byHash.set(h, f.bytes);
  }
  return byHash;
}

/** The needed files that are not yet among `have` (hash -> bytes). */
export function missingFiles(needed: readonly NeededFile[], have: ReadonlyMap<string, Uint8Array>): NeededFile[] {
  return needed.filter((n) => !have.has(n.sha256));
}
