import 'fake-indexeddb/auto';
import { describe, it, expect, afterEach } from 'vitest';
import { z } from 'zod';
import { PolyPruneError } from '../../src/common/errors';
import { RunHistory, HISTORY_FORMAT } from '../../src/experiment/history';

const rec = z.object({ kind: z.literal('t'), n: z.number(), s: z.string() });
type Rec = z.infer<typeof rec>;
const parse = (v: unknown): Rec => {
  const r = rec.safeParse(v);
  if (!r.success) throw new PolyPruneError('HISTORY_INVALID', `wrong shape at ${r.error.issues[0].path.join('.')}.`);
  return r.data;
};

let n = 0;
const open: RunHistory<Rec>[] = [];
async function fresh(): Promise<RunHistory<Rec>> {
  const h = await RunHistory.open(parse, `polyprune-test-${++n}`);
  open.push(h);
  return h;
}
afterEach(() => {
  for (const h of open.splice(0)) h.close();
});

describe('run history (IndexedDB)', () => {
  it('adds, lists newest first, gets, renames and deletes', async () => {
    const h = await fresh();
    const a = await h.add({ kind: 't', n: 1, s: 'a' }, 'first', { savedAt: '2026-01-01T00:00:00.000Z' });
    const b = await h.add({ kind: 't', n: 2, s: 'b' }, 'second', { savedAt: '2026-01-02T00:00:00.000Z' });
    expect((await h.list()).entries.map((e) => e.name)).toEqual(['second', 'first']);
    expect((await h.get(a.id))?.record).toEqual({ kind: 't', n: 1, s: 'a' });
    await h.rename(a.id, '  renamed ');
    expect((await h.get(a.id))?.name).toBe('renamed');
    await expect(h.rename(a.id, '   ')).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(h.rename('nope', 'x')).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await h.remove(b.id);
    expect((await h.list()).entries.map((e) => e.id)).toEqual([a.id]);
  });

  it('survives closing and reopening the database', async () => {
    const h = await fresh();
    await h.add({ kind: 't', n: 3, s: 'kept' }, 'kept');
    h.close();
    open.pop();
    const again = await RunHistory.open(parse, `polyprune-test-${n}`);
    open.push(again);
    expect((await again.list()).entries.map((e) => e.record.s)).toEqual(['kept']);
  });

  it('exports all and imports the same list elsewhere; re-import skips what is there', async () => {
    const h = await fresh();
    await h.add({ kind: 't', n: 1, s: 'x <script>alert(1)</script>' }, 'one', { savedAt: '2026-01-01T00:00:00.000Z' });
    await h.add({ kind: 't', n: 2, s: 'y' }, 'two', { savedAt: '2026-01-03T00:00:00.000Z' });
    const file = await h.exportAll();
    expect(JSON.parse(file).format).toBe(HISTORY_FORMAT);
    const other = await fresh();
    expect(await other.importAll(file)).toEqual({ added: 2, skipped: 0 });
    expect((await other.list()).entries).toEqual((await h.list()).entries);
    expect(await other.importAll(file)).toEqual({ added: 0, skipped: 2 });
  });

  it('refuses import files of the wrong shape and stores nothing', async () => {
    const h = await fresh();
    await h.add({ kind: 't', n: 1, s: 'a' }, 'kept');
    const bad = async (text: string, re: RegExp) => {
      const e = await h.importAll(text).then(() => null, (x: unknown) => x as PolyPruneError);
      expect(e).toBeInstanceOf(PolyPruneError);
      expect(e!.code).toBe('HISTORY_INVALID');
      expect(e!.message).toMatch(re);
    };
    await bad('not json', /not JSON/);
    await bad('{"a":1}', /not a PolyPrune history export/);
    await bad(JSON.stringify({ format: HISTORY_FORMAT, version: 1, entries: {} }), /wrong shape at entries/);
    await bad(JSON.stringify({ format: HISTORY_FORMAT, version: 9, entries: [] }), /newer PolyPrune/);
    const good = { id: 'g', name: 'good', savedAt: '2026-01-01', record: { kind: 't', n: 1, s: '' } };
    await bad(JSON.stringify({ format: HISTORY_FORMAT, version: 1, entries: [good, { ...good, id: 'h', record: { kind: 't', n: 'x' } }] }), /Run 2 \('good'\).*Nothing was imported/);
    expect((await h.list()).entries.map((e) => e.name)).toEqual(['kept']);
  });

  it('turns a full quota into STORAGE_FULL and keeps what was stored', async () => {
    const h = await fresh();
    await h.add({ kind: 't', n: 1, s: 'a' }, 'kept');
    // Simulate the browser running out of quota: the put fails the way IndexedDB reports it.
    const proto = IDBObjectStore.prototype;
    const put = proto.put;
    proto.put = function () {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    };
    try {
      const e = await h.add({ kind: 't', n: 2, s: 'b' }, 'lost').then(() => null, (x: unknown) => x as PolyPruneError);
      expect(e?.code).toBe('STORAGE_FULL');
      expect(e?.message).toMatch(/storage for this page is full.*Everything saved before is kept/);
      await expect(h.savePartial('run', { cells: [1] })).rejects.toMatchObject({ code: 'STORAGE_FULL' });
    } finally {
      proto.put = put;
    }
    expect((await h.list()).entries.map((e) => e.name)).toEqual(['kept']);
  });

  it('keeps experiments in progress until removed', async () => {
    const h = await fresh();
    await h.savePartial('run1', { cells: [1] });
    await h.savePartial('run1', { cells: [1, 2] });
    const [p] = await h.listPartial<{ cells: number[] }>();
    expect(p.data.cells).toEqual([1, 2]);
    await h.removePartial('run1');
    expect(await h.listPartial()).toEqual([]);
  });
});
