/** Assertions on the engine's typed errors. */
import { expect } from 'vitest';
import { PolyPruneError } from '../../src/common/errors';

/** The PolyPruneError `p` rejects with; fails the test when it resolves or rejects with anything else. */
export async function rejection(p: Promise<unknown>): Promise<PolyPruneError> {
  const e = await p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(PolyPruneError);
  return e as PolyPruneError;
}

/** The PolyPruneError `f` throws; fails the test when it returns or throws anything else. */
export function thrown(f: () => unknown): PolyPruneError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(PolyPruneError);
    return e as PolyPruneError;
  }
  throw new Error('expected a throw');
}

/** "CODE: message" of the PolyPruneError `p` rejects with, or 'accepted' when it resolves. */
export async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(PolyPruneError);
    return `${(e as PolyPruneError).code}: ${(e as PolyPruneError).message}`;
  }
  return 'accepted';
}
