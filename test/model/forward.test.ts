import { describe, it, expect, beforeAll } from 'vitest';
import type { Gpu } from '../../src/gpu/device';
import { LlamaModel } from '../../src/model/llama';
import { cpuLogits } from '../../src/model/reference';
import { testGpu, relMaxErr } from '../helpers/gpu';
import { fixtureCheckpoint, fixtureTensors, fixtureWindows, fixtureMetrics, fixtureCpuModel } from '../helpers/fixture';

let gpu: Gpu;
let model: LlamaModel;
beforeAll(async () => {
  gpu = await testGpu();
  const { cfg, ckpt } = await fixtureCheckpoint();
  model = await LlamaModel.load(gpu, cfg, ckpt);
});

describe('Llama forward on stories260K (reference outputs of the original PyTorch code)', () => {
  it('logits of calibration sample 0 match dense.safetensors to 1e-4 relative', async () => {
    const { ids, seqlen } = await fixtureWindows('calib-en.safetensors');
    const row0 = ids.slice(0, seqlen);
    const x = await model.forwardHidden(row0, seqlen);
    const lt = model.logits(x, seqlen);
    const got = await gpu.readF32(lt);
    x.destroy();
    lt.destroy();
    const dense = await fixtureTensors('dense.safetensors');
    const want = await dense.readF32('logits');
    const err = relMaxErr(got, want);
    expect(err).toBeLessThan(1e-4);
    // The TypeScript reference agrees too (guards the reference used by other tests).
    const cpu = cpuLogits(await fixtureCpuModel(), row0);
    expect(relMaxErr(cpu, want)).toBeLessThan(1e-5);
  });

  it('eval-en perplexity matches metrics.json to 1e-4 relative (batched windows)', async () => {
    const { ids, n, seqlen } = await fixtureWindows('eval-en.safetensors');
    const seqs = Array.from({ length: n }, (_, i) => ids.slice(i * seqlen, (i + 1) * seqlen));
    const nll = await model.tokenNll(seqs);
    let total = 0;
    let count = 0;
    for (const w of nll) {
      for (const v of w) {
        total += v;
        count++;
      }
    }
    const m = fixtureMetrics().variants.dense.eval['eval-en'];
    expect(count).toBe(m.predicted_tokens);
    expect(Math.abs(total / count - m.mean_nll) / m.mean_nll).toBeLessThan(1e-4);
    expect(Math.abs(Math.exp(total / count) - m.ppl) / m.ppl).toBeLessThan(1e-4);
    nll.forEach((w, i) => expect(Math.abs(w.reduce((a, b) => a + b, 0) - m.nll_per_window[i]) / m.nll_per_window[i]).toBeLessThan(1e-4));
  });

  it('streams layers from the checkpoint when not resident, with identical results', async () => {
    const { cfg, ckpt } = await fixtureCheckpoint();
    const streamed = await LlamaModel.load(gpu, cfg, ckpt, { resident: false });
    const { ids, seqlen } = await fixtureWindows('eval-en.safetensors');
    const seq = ids.slice(0, seqlen);
    const [a] = await streamed.tokenNll([seq]);
    const [b] = await model.tokenNll([seq]);
    expect(Array.from(a)).toEqual(Array.from(b));
    streamed.destroy();
  });
});

describe('adapter limits', () => {
  it('splits matrices over several bindings on a small adapter and gives the same NLL', async () => {
    const { Gpu } = await import('../../src/gpu/device');
    const { nodeGpu } = await import('../../src/gpu/node');
    // 16 KiB per binding: the 512x64 embedding/head (128 KiB) splits into 64-row chunks, 172-wide MLP rows fit.
    const small = await Gpu.create(await nodeGpu(), { politeWait: true, maxBindingBytes: 64 * 172 * 4 });
    const { cfg, ckpt } = await fixtureCheckpoint();
    const m = await LlamaModel.load(small, cfg, ckpt);
    expect(m.embed.chunks.length).toBeGreaterThan(1);
    const { ids, seqlen } = await fixtureWindows('eval-en.safetensors');
    const seq = ids.slice(0, seqlen);
    const [a] = await m.tokenNll([seq]);
    const [b] = await model.tokenNll([seq]);
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-5);
    m.destroy();
    small.destroy();
  });

  it('refuses a model whose rows do not fit the adapter, with a clear message', async () => {
    const { Gpu } = await import('../../src/gpu/device');
    const { nodeGpu } = await import('../../src/gpu/node');
    const tiny = await Gpu.create(await nodeGpu(), { politeWait: true, maxBindingBytes: 4096 });
    const { cfg, ckpt } = await fixtureCheckpoint();
    await expect(LlamaModel.load(tiny, cfg, ckpt)).rejects.toMatchObject({ code: 'GPU_LIMITS', message: expect.stringMatching(/too small/) });
    tiny.destroy();
  });
});

describe('shared embeddings', () => {
  it('a model loaded with shareFrom reuses the embeddings and keeps working after the other is destroyed', async () => {
    const { cfg, ckpt } = await fixtureCheckpoint();
    const a = await LlamaModel.load(gpu, cfg, ckpt);
    const before = gpu.memory().liveBytes;
    const b = await LlamaModel.load(gpu, cfg, ckpt, { shareFrom: a });
    expect(b.embed).toBe(a.embed);
    // Only the decoder layers were added (no second copy of the 512 x 64 embedding).
    const layerBytes = gpu.memory().liveBytes - before;
    expect(layerBytes).toBeLessThan(1040128 - 512 * 64 * 4 + 64 * 4 * 100);
    const { ids, seqlen } = await fixtureWindows('eval-en.safetensors');
    const seq = ids.slice(0, seqlen);
    const [want] = await a.tokenNll([seq]);
    a.destroy();
    const [got] = await b.tokenNll([seq]);
    expect(Array.from(got)).toEqual(Array.from(want));
    b.destroy();
  });
});
