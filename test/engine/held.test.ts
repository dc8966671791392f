/**
 * What the engine already holds on the GPU counts in its plan, and background work yields: the page
 * keeps its bundled model loaded and measures its speed in the background (OpOptions.background), so
 * a prune's peak there included a model and a measurement the plan did not count (issue 22, the
 * page's 1.03 x). Counted bytes on the stories260K fixture (lavapipe), no timings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalEngine } from '../../src/engine/local';
import type { ModelSpec, ModelSummary, PruneRequest } from '../../src/engine/api';
import { dirFolder } from '../../src/io/node';
import { fixtureEngine } from '../helpers/engine';
import { rejection } from '../helpers/errors';
import { FIXTURE, requireShared } from '../helpers/fixture';

const TEXT = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. One day she found a big red ball under a tree. '.repeat(8);
const REQ: PruneRequest = { method: 'wanda', sparsity: 0.5, calibration: { texts: [{ name: 'en.txt', text: TEXT }], nsamples: 2, seqlen: 64, seed: 0 } };
const QUERY = { method: 'wanda' as const, nsamples: 2, seqlen: 64 };

let engine: LocalEngine;
let base: ModelSummary;
const spec = (): ModelSpec => ({ kind: 'folder', folder: dirFolder(requireShared(FIXTURE)) });
beforeAll(async () => {
  ({ engine, base } = await fixtureEngine());
});
afterAll(async () => {
  await engine?.dispose();
});

const live = async (): Promise<number> => (await engine.gpuStats())!.liveBytes;
const held = (p: { gpu: { kind: string; bytes: number }[] }): number => p.gpu.find((i) => i.kind === 'already on the GPU')?.bytes ?? 0;

describe('the plan counts what the engine holds; background work yields', () => {
  it('a model loaded beside the one pruned: the plan counts it and the prune stays within the plan', async () => {
    // base is loaded; plan a second model (as the page plans a URL model while its bundled model is loaded)
    const before = await live();
    expect(before).toBeGreaterThan(0);
    const plan = await engine.plan(spec(), QUERY);
    expect(held(plan)).toBe(before);
    const other = await engine.loadModel(spec());
    // the plan of a loaded model counts its own weights once: what is held besides it is the base
    // (and the few bytes of padding the plan's formula leaves out of the model's own tensors)
    const byId = held(await engine.plan(other.id, QUERY));
    expect(byId).toBeGreaterThanOrEqual(before);
    expect(byId).toBeLessThan(before + 4096);
    const r = await engine.prune(other.id, REQ);
    expect(r.report.peakGpuBytes).toBeGreaterThan(before);
    expect(r.report.peakGpuBytes / plan.gpuPeakBytes).toBeLessThanOrEqual(1);
    await engine.unloadModel(r.model.id);
    await engine.unloadModel(other.id);
    expect(await live()).toBe(before);
    // nothing else loaded: nothing held besides the model itself
    expect(held(await engine.plan(base.id, QUERY))).toBe(0);
  });

  it('a background perplexity is cancelled by a prune that starts, which waits for its buffers to be freed', async () => {
    const ids = Int32Array.from({ length: 16 * 64 }, (_, i) => (i * 7919 + 13) % 512);
    const alone = await engine.prune(base.id, REQ);
    await engine.unloadModel(alone.model.id);
    const bg = rejection(engine.perplexity(base.id, { windows: { ids, n: 16, seqlen: 64 }, seqlen: 64 }, { opId: 'bg', background: true }));
    const r = await engine.prune(base.id, REQ);
    expect((await bg).code).toBe('CANCELLED');
    // the same bytes as the prune alone: none of the measurement's buffers were live beside it
    expect(r.report.peakGpuBytes).toBe(alone.report.peakGpuBytes);
    await engine.unloadModel(r.model.id);
  });

  it('a background operation is refused while another runs, and runs when the engine is idle', async () => {
    const ids = Int32Array.from({ length: 64 }, (_, i) => (i * 7919 + 13) % 512);
    const fg = engine.prune(base.id, REQ);
    const refused = await rejection(engine.perplexity(base.id, { windows: { ids, n: 1, seqlen: 64 }, seqlen: 64 }, { background: true }));
    expect(refused.code).toBe('CANCELLED');
    await engine.unloadModel((await fg).model.id);
    const ok = await engine.perplexity(base.id, { windows: { ids, n: 1, seqlen: 64 }, seqlen: 64 }, { background: true });
    expect(ok.ppl).toBeGreaterThan(1);
  });
});
