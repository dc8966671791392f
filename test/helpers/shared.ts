/**
 * Paths into ../shared (fixtures and texts). Tests that need them fail loudly when the folder is
 * missing; they never skip.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const SHARED_DIR = resolve(process.cwd(), '../shared');

/** Absolute path of `rel` inside ../shared; throws if it does not exist. */
export function sharedPath(rel: string): string {
  const p = join(SHARED_DIR, rel);
  if (!existsSync(p)) {
    throw new Error(`Missing shared test data: ${p}. The tests need the ../shared folder beside the repository.`);
  }
  return p;
}

export const STORIES_DIR_REL = 'fixtures/stories260K';

/** A fresh temporary directory and a function that removes it. */
export async function tempDir(prefix = 'polyprune-test-'): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
