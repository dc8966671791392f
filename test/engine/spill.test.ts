/**
 * Pruned matrices spilled to a temporary file (src/io/spill.ts, EngineOptions.spill): the stories260K
 * fixture pruned with the spill forced (threshold 0) and in memory gives the same masks, perplexity
 * and exported HF folder byte for byte; the spilled store holds nothing on the heap, its file has the
 * pruned bytes while the model is loaded and is gone after unload or a cancelled prune. Streamed
 * layers, so every forward of the pruned model reads its matrices back from the file by range.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LocalEngine } from '../../src/engine/local';
import type { ModelSummary, PruneRequest } from '../../src/engine/api';
import { describePlan } from '../../src/prune/plan';
import { memorySink } from '../../src/export/sink';
import { dirFolder, nodeSpill } from '../../src/io/node';
import { openTensorStore, type SpillBacking } from '../../src/io/spill';
import { fixtureEngine } from '../helpers/engine';
import { FIXTURE, fixtureWindows, requireShared } from '../helpers/fixture';
import { rejection } from '../helpers/errors';

let dir: string;
let mem: { engine: LocalEngine; base: ModelSummary };
let disk: { engine: LocalEngine; base: ModelSummary };
let req: PruneRequest;
let evalWindows: { ids: Int32Array; n: number; seqlen: number };

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'polyprune-spill-'));
  mem = await fixtureEngine({ resident: false });
  disk = await fixtureEngine({ resident: false, spill: nodeSpill(dir), spillPrunedAboveBytes: 0 });
  const calib = await fixtureWindows('calib-en.safetensors');
  req = { method: 'wanda', sparsity: 0.5, calibration: { windows: { ids: calib.ids.slice(0, 4 * calib.seqlen), n: 4, seqlen: calib.seqlen } } };
  evalWindows = await fixtureWindows('eval-en.safetensors');
});

afterAll(async () => {
  await mem?.engine.dispose();
  await disk?.engine.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const spillFiles = (): string[] => readdirSync(dir).filter((f) => f.startsWith('polyprune-pruned-'));

async function exported(engine: LocalEngine, id: string): Promise<Map<string, Uint8Array>> {
  const sink = memorySink();
  await engine.exportTo(id, sink, { format: 'hf' });
  return sink.files;
}

describe('pruned matrices spilled to a temporary file', () => {
  it('the plan puts them on disk, not in host memory', async () => {
    const spec = { kind: 'folder' as const, folder: dirFolder(requireShared(FIXTURE)) };
    const query = { method: 'wanda' as const, nsamples: 4, seqlen: 64, hostMemoryBytes: 1 };
    const onDisk = await disk.engine.plan(spec, query);
    const inMem = await mem.engine.plan(spec, query);
    expect(onDisk.prunedOnDisk).toBe(true);
    expect(onDisk.hostBytes).toBe(0);
    expect(onDisk.prunedBytes).toBe(inMem.prunedBytes);
    expect(inMem.prunedOnDisk).toBe(false);
    expect(inMem.hostBytes).toBe(inMem.prunedBytes);
    // 1 byte of host memory: refused in memory, fine when spilled
    expect(inMem.problems.join(' ')).toMatch(/Exporting holds the pruned matrices in memory/);
    expect(onDisk.problems).toEqual([]);
    expect(describePlan(onDisk).join('\n')).toMatch(/pruned matrices on disk \(spilled\): [\d.]+ KiB; host memory: 0 B/);
  });

  it('same masks, perplexity and exported files; nothing on the heap; the file goes with the model', async () => {
    // a file left by a process that is gone (pid above Linux's pid_max) is removed when the next one is made
    const stale = path.join(dir, 'polyprune-pruned-4194999-0123abcd.bin');
    writeFileSync(stale, new Uint8Array(10));
    const a = await mem.engine.prune(mem.base.id, req);
    expect(existsSync(stale)).toBe(true);
    const b = await disk.engine.prune(disk.base.id, req);
    expect(existsSync(stale)).toBe(false);
    const storeA = mem.engine.get(a.model.id).pruning!.pruned.store;
    const storeB = disk.engine.get(b.model.id).pruning!.pruned.store;
    expect(storeA.kind).toBe('memory');
    expect(storeB.kind).toBe('disk');
    expect(storeB.memoryBytes).toBe(0);
    expect(storeB.size).toBe(storeA.size);
    expect(storeB.bytes).toBe(storeA.bytes);
    expect(storeB.bytes).toBeGreaterThan(0);
    expect(spillFiles()).toEqual([path.basename(storeB.location)]);
    expect(statSync(storeB.location).size).toBe(storeB.bytes);
    expect(b.model.warnings ?? []).toEqual([]);
    // the plan counts exactly the bytes the engine stores (its spill decision is the engine's)
    const plan = await disk.engine.plan({ kind: 'folder', folder: dirFolder(requireShared(FIXTURE)) }, { method: 'wanda', nsamples: 4, seqlen: 64 });
    expect(plan.prunedBytes).toBe(storeB.bytes);

    expect(b.report.perMatrix).toEqual(a.report.perMatrix);
    expect(disk.engine.get(b.model.id).pruning!.mask).toEqual(mem.engine.get(a.model.id).pruning!.mask);
    const pplReq = { windows: evalWindows, seqlen: evalWindows.seqlen };
    const pa = await mem.engine.perplexity(a.model.id, pplReq);
    const pb = await disk.engine.perplexity(b.model.id, pplReq);
    expect(pb.ppl).toBe(pa.ppl);

    const fa = await exported(mem.engine, a.model.id);
    const fb = await exported(disk.engine, b.model.id);
    expect([...fb.keys()].sort()).toEqual([...fa.keys()].sort());
    for (const [name, bytes] of fa) expect(Buffer.from(fb.get(name)!).equals(Buffer.from(bytes)), name).toBe(true);

    await disk.engine.unloadModel(b.model.id);
    await mem.engine.unloadModel(a.model.id);
    expect(existsSync(storeB.location)).toBe(false);
    expect(spillFiles()).toEqual([]);
  });

  it("the mixer's model: its matrices read back on export go to the spill file, the same files; re-mixing and unloading delete it", async () => {
    const calib = req.calibration as { windows: { ids: Int32Array; n: number; seqlen: number } };
    const mixed = async (engine: LocalEngine, base: string) => {
      const stats = await engine.collectStats(base, { method: 'wanda', sources: [{ name: 'en', windows: calib.windows }], nsamples: 4, seqlen: calib.windows.seqlen });
      const r = await engine.mixPrune(stats.id, { weights: [1], sparsity: 0.5 });
      return { stats, id: r.model.id, files: await exported(engine, r.model.id) };
    };
    const m = await fixtureEngine({ spill: nodeSpill(dir) });
    const d = await fixtureEngine({ spill: nodeSpill(dir), spillPrunedAboveBytes: 0 });
    try {
      const a = await mixed(m.engine, m.base.id);
      expect(spillFiles()).toEqual([]);
      const b = await mixed(d.engine, d.base.id);
      const store = d.engine.get(b.id).pruning!.pruned.store;
      expect([store.kind, store.memoryBytes, spillFiles()]).toEqual(['disk', 0, [path.basename(store.location)]]);
      expect(statSync(store.location).size).toBe(store.bytes);
      for (const [name, bytes] of a.files) expect(Buffer.from(b.files.get(name)!).equals(Buffer.from(bytes)), name).toBe(true);
      // a slider move re-masks the same slot: the read-back matrices are stale, their file goes
      await d.engine.mixPrune(b.stats.id, { weights: [1], sparsity: 0.25 });
      expect(spillFiles()).toEqual([]);
      await exported(d.engine, b.id);
      expect(spillFiles()).toHaveLength(1);
      await d.engine.unloadModel(b.id);
      expect(spillFiles()).toEqual([]);
    } finally {
      await m.engine.dispose();
      await d.engine.dispose();
    }
  });

  it('a cancelled prune deletes its spill file', async () => {
    let seen = 0;
    const run = disk.engine.prune(disk.base.id, req, {
      opId: 'spill-cancel',
      onProgress: (e) => {
        if (e.kind === 'prune' && ++seen === 2) {
          expect(spillFiles().length).toBe(1);
          void disk.engine.cancel('spill-cancel');
        }
      },
    });
    expect((await rejection(run)).code).toBe('CANCELLED');
    expect(seen).toBeGreaterThanOrEqual(2);
    expect(spillFiles()).toEqual([]);
  });

  it('no usable spill place: memory, with a one-line warning on the pruned model', async () => {
    const { engine, base } = await fixtureEngine({ spill: nodeSpill(path.join(dir, 'missing', 'folder')), spillPrunedAboveBytes: 0 });
    try {
      const r = await engine.prune(base.id, { method: 'magnitude', sparsity: 0.5 });
      expect(engine.get(r.model.id).pruning!.pruned.store.kind).toBe('memory');
      expect(r.model.warnings).toHaveLength(1);
      expect(r.model.warnings![0]).toMatch(/^Could not create a spill file in the temporary folder .*missing.folder \(Cannot write .*: the folder does not exist\); the pruned matrices \([\d.]+ KiB\) are kept in memory\.$/);
    } finally {
      await engine.dispose();
    }
  });

  it('a write that fails mid-run (a full disk): what was spilled moves to memory, the file is deleted', async () => {
    const deleted: string[] = [];
    const data = new Map<number, Uint8Array>();
    const backing: SpillBacking = {
      where: 'a test disk',
      async create() {
        return {
          location: 'test.bin',
          async write(at, bytes) {
            if (data.size === 2) throw new Error('ENOSPC: no space left on device');
            data.set(at, bytes.slice());
          },
          async read(at, length) {
            return data.get(at)!.slice(0, length);
          },
          async delete() {
            deleted.push('test.bin');
          },
        };
      },
      freeBytes: async () => undefined,
    };
    const store = await openTensorStore(30, { aboveBytes: 0, backing });
    for (const [k, n] of ['a', 'b', 'c'].entries()) await store.add(n, new Uint8Array(10).fill(k + 1));
    expect(store.kind).toBe('memory');
    expect(deleted).toEqual(['test.bin']);
    expect(store.memoryBytes).toBe(30);
    expect([...(await store.readAll('b'))]).toEqual(new Array(10).fill(2));
    expect([...(await store.read('c', 8, 2))]).toEqual([3, 3]);
    expect(store.warning).toMatch(/^Writing the pruned matrices to a test disk failed \(ENOSPC: no space left on device\); they are kept in memory instead \(30 B so far\)\.$/);
    // not enough free space known up front: memory, said so
    const full = await openTensorStore(1000, { aboveBytes: 0, backing: { ...backing, freeBytes: async () => 999 } });
    expect(full.kind).toBe('memory');
    expect(full.warning).toMatch(/^Not enough free disk space to spill the pruned matrices \(1000 B; 999 B free\)/);
  });
});
