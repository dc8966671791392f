/**
 * The mixer's statistics in IndexedDB (fake-indexeddb in Node): saved under model hash + sources +
 * nsamples/seqlen/seed, listed per model, read back bit for bit, replaced by the same collection, and a
 * full quota ends in STORAGE_FULL with what was stored before kept.
 */
import 'fake-indexeddb/auto';
import { describe, it, expect, afterAll } from 'vitest';
import type { StatsData } from '../../src/engine/api';
import { closeMixStatsDb, deleteMixStats, listMixStats, loadMixStats, saveMixStats, statsKey } from '../../src/ui/features/mixer/mixStatsCache';

function data(model: string, seed: number, n = 3): StatsData {
  const rnd = (k: number) => Float32Array.from({ length: k }, () => Math.random() * 10);
  return {
    format: 'polyprune-mix-stats',
    version: 1,
    modelSha256: model,
    method: 'wanda',
    sources: [
      { name: 'de', language: 'de', windows: n, bytes: 100, sha256: 'a'.repeat(64) },
      { name: 'mine.txt', language: null, windows: n, bytes: 200, sha256: 'b'.repeat(64) },
    ],
    nsamples: n,
    seqlen: 4,
    seed,
    layers: 1,
    ids: Int32Array.from({ length: 2 * n * 4 }, (_, i) => i % 7),
    files: [],
    values: [rnd(2 * n * 8), rnd(2 * n * 8), rnd(2 * n * 8), rnd(2 * n * 16)],
  };
}

afterAll(closeMixStatsDb);

describe('mixer statistics in IndexedDB', () => {
  it('saves, lists per model, reads back exactly, replaces the same key, deletes', async () => {
    const a = data('m1', 0);
    const b = data('m1', 1);
    const c = data('m2', 0);
    for (const d of [a, b, c]) await saveMixStats(d);
    expect(statsKey(a)).not.toBe(statsKey(b));
    const list = await listMixStats('m1');
    expect(list.map((m) => m.seed).sort()).toEqual([0, 1]);
    expect(list[0].sources.map((s) => s.name)).toEqual(['de', 'mine.txt']);
    expect(list[0].bytes).toBe(a.values.reduce((x, v) => x + v.byteLength, 0) + a.ids.byteLength);
    const back = await loadMixStats(statsKey(a));
    expect(back.values.map((v) => [...v])).toEqual(a.values.map((v) => [...v]));
    expect([...back.ids]).toEqual([...a.ids]);
    // the same collection again replaces its entry
    const a2 = data('m1', 0);
    await saveMixStats(a2);
    expect((await listMixStats('m1')).length).toBe(2);
    expect([...(await loadMixStats(statsKey(a))).values[0]]).toEqual([...a2.values[0]]);
    await deleteMixStats(statsKey(b));
    expect((await listMixStats('m1')).map((m) => m.seed)).toEqual([0]);
    await expect(loadMixStats(statsKey(b))).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    expect((await listMixStats('m2')).length).toBe(1);
  });

  it("SparseGPT's Hessians of the same collection are a separate entry, listed with their method", async () => {
    const w = data('m4', 0);
    const h: StatsData = { ...data('m4', 0), method: 'sparsegpt', values: [w.values[0].subarray(0, 4), w.values[1].subarray(0, 4), w.values[2].subarray(0, 4), w.values[3].subarray(0, 9)] };
    expect(statsKey(h)).toBe(`${statsKey(w)}|sparsegpt`);
    // GPTQ's collection is the same Hessians: the same entry (collecting for either replaces it)
    expect(statsKey({ ...h, method: 'gptq' })).toBe(statsKey(h));
    await saveMixStats(w);
    await saveMixStats(h);
    const list = await listMixStats('m4');
    expect(list.map((m) => m.method).sort()).toEqual(['sparsegpt', 'wanda']);
    const back = await loadMixStats(statsKey(h));
    expect(back.method).toBe('sparsegpt');
    expect([...back.values[3]]).toEqual([...h.values[3]]);
    const proto = IDBObjectStore.prototype;
    const put = proto.put;
    proto.put = function () {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    };
    try {
      await expect(saveMixStats({ ...h, seed: 9 })).rejects.toMatchObject({ code: 'STORAGE_FULL', message: expect.stringMatching(/^The mixer statistics \(SparseGPT's Hessians, 0\.0 MiB\) could not be kept/) });
    } finally {
      proto.put = put;
    }
  });

  it('a full quota ends in STORAGE_FULL and keeps what was stored', async () => {
    const proto = IDBObjectStore.prototype;
    const put = proto.put;
    proto.put = function () {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    };
    try {
      const e = await saveMixStats(data('m3', 5)).then(() => null, (x: unknown) => x as { code: string; message: string });
      expect(e?.code).toBe('STORAGE_FULL');
      expect(e?.message).toMatch(/could not be kept for a later visit: the browser's storage for this page is full\. They stay usable in this tab/);
    } finally {
      proto.put = put;
    }
    expect(await listMixStats('m3')).toEqual([]);
    expect((await listMixStats('m1')).length).toBe(1);
  });
});
