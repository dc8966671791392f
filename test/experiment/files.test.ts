import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { matchNeededFiles, missingFiles } from '../../src/experiment/files';
import { sha256Hex } from '../../src/calib/text';

const enc = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('files a re-run needs', () => {
  const a = enc('calibration text A, in Swahili: Habari ya asubuhi.');
  const b = enc('calibration text B');
  const needed = [
    { name: 'sw.txt', bytes: a.length, sha256: hex(a) },
    { name: 'mine.txt', bytes: b.length, sha256: hex(b) },
  ];

  it('hashes like sha256sum', async () => {
    expect(await sha256Hex(a)).toBe(hex(a));
  });

  it('accepts files by hash whatever their name, and names what is still missing', async () => {
    const have = await matchNeededFiles(needed, [{ name: 'renamed.txt', bytes: a }]);
    expect(missingFiles(needed, have).map((f) => f.name)).toEqual(['mine.txt']);
  });

  it('refuses a file with the wrong hash, naming both hashes', async () => {
    const wrong = enc('calibration text A, in Swahili: Habari ya jioni.');
    await expect(matchNeededFiles(needed, [{ name: 'sw.txt', bytes: wrong }])).rejects.toMatchObject({
      code: 'HASH_MISMATCH',
      message: expect.stringMatching(new RegExp(`'sw.txt' is not the file.*${hex(wrong).slice(0, 12)}.*${hex(a).slice(0, 12)}`)),
    });
    await expect(matchNeededFiles(needed, [{ name: 'other.txt', bytes: wrong }])).rejects.toMatchObject({ code: 'HASH_MISMATCH', message: expect.stringContaining('not one of the files') });
  });
});
