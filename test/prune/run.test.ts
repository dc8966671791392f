import { describe, it, expect, beforeAll } from 'vitest';
import type { Gpu } from '../../src/gpu/device';
import { LlamaModel, LINEAR_NAMES } from '../../src/model/llama';
import { pruneModel, type PruneModelOptions } from '../../src/prune/run';
import type { ProgressEvent } from '../../src/common/progress';
import { Pacer } from '../../src/common/pace';
import { testGpu } from '../helpers/gpu';
import { fixtureCheckpoint, fixtureModel, fixtureTensors, fixtureWindows, fixtureMetrics } from '../helpers/fixture';
import { rejection as errorOf } from '../helpers/errors';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await testGpu();
});

const freshModel = (resident = true): Promise<LlamaModel> => fixtureModel(gpu, resident);

describe('pruneModel argument checks (BAD_ARGUMENT, before any work)', () => {
  let model: LlamaModel;
  beforeAll(async () => {
    model = await freshModel();
  });
  const calib = { ids: new Int32Array(2 * 8).fill(5), n: 2, seqlen: 8 };
  const cases: [string, Partial<PruneModelOptions>, typeof calib | null, RegExp][] = [
    ['sparsity 0', { sparsity: 0 }, calib, /strictly between 0 and 1.*got 0/],
    ['sparsity 1', { sparsity: 1 }, calib, /strictly between 0 and 1.*got 1/],
    ['sparsity 1.5', { sparsity: 1.5 }, calib, /strictly between 0 and 1/],
    ['sparsity NaN', { sparsity: NaN }, calib, /strictly between 0 and 1/],
    ['no sparsity, no N:M', { sparsity: undefined }, calib, /sparsity ratio in \(0, 1\).*or an N:M pattern/],
    ['N >= M', { nm: { n: 4, m: 4 } }, calib, /N \(weights kept per group\) must be smaller than M/],
    ['N:M not dividing in_features', { nm: { n: 2, m: 8 } }, calib, /in_features divisible by 8.*mlp\.down_proj.*172 input features/],
    ['N:M contradicting sparsity', { nm: { n: 2, m: 4 }, sparsity: 0.7 }, calib, /contradicts N:M 2:4/],
    ['no calibration', {}, null, /wanda needs calibration/],
    ['nsamples 0', {}, { ids: new Int32Array(0), n: 0, seqlen: 8 }, /calibration samples must be at least 1, got 0/],
    ['seqlen 0', {}, { ids: new Int32Array(0), n: 2, seqlen: 0 }, /sequence length must be at least 1 token, got 0/],
    ['seqlen > max_position_embeddings', {}, { ids: new Int32Array(2 * 600), n: 2, seqlen: 600 }, /sequence length 600 exceeds this model's max_position_embeddings \(512\)/],
    ['ids of the wrong length', {}, { ids: new Int32Array(15), n: 2, seqlen: 8 }, /hold 15 tokens, expected nsamples x seqlen = 2 x 8 = 16/],
    ['token id outside the vocabulary', {}, { ids: new Int32Array(16).fill(512), n: 2, seqlen: 8 }, /token id 512 .* outside the vocabulary \(0\.\.511\)/],
  ];
  for (const [what, o, c, msg] of cases) {
    it(what, async () => {
      const e = await errorOf(pruneModel(model, c, { method: 'wanda', sparsity: 'sparsity' in o || 'nm' in o ? undefined : 0.5, ...o }));
      expect(e.code).toBe('BAD_ARGUMENT');
      expect(e.message).toMatch(msg);
    });
  }
  it('unknown method lists the supported ones', async () => {
    const e = await errorOf(pruneModel(model, calib, { method: 'obs' as never, sparsity: 0.5 }));
    expect(e.message).toMatch(/Unknown pruning method 'obs'. Supported: wanda, wanda-lang, sparsegpt, ria, magnitude/);
  });
  it('nothing was modified by the refused calls', async () => {
    const { ckpt } = await fixtureCheckpoint();
    expect(await model.readLinear(0, 'self_attn.q_proj')).toEqual(await ckpt.readF32('model.layers.0.self_attn.q_proj.weight'));
    model.destroy();
  });
});

describe('cancellation', () => {
  for (const resident of [true, false]) {
    it(`aborting in layer 2 restores the dense weights and frees the GPU memory (${resident ? 'resident' : 'streamed'})`, async () => {
      const model = await freshModel(resident);
      const calib = await fixtureWindows('calib-en.safetensors');
      // The model keeps its RoPE tables per sequence length: create the one for 64 tokens first.
      await model.tokenNll([calib.ids.slice(0, calib.seqlen)]);
      const before = gpu.memory().liveBytes;
      const ac = new AbortController();
      const events: ProgressEvent[] = [];
      const seen: string[] = [];
      const e = await errorOf(
        pruneModel(model, calib, {
          method: 'wanda',
          sparsity: 0.5,
          signal: ac.signal,
          onProgress: (ev) => {
            events.push(ev);
            if (ev.kind === 'layer' && ev.layer === 2 && ev.phase === 'prune') ac.abort();
          },
          onMatrixPruned: (i, n) => void seen.push(`${i}.${n}`),
        }),
      );
      expect(e.code).toBe('CANCELLED');
      expect(seen).toHaveLength(14); // layers 0 and 1 finished
      expect(gpu.memory().liveBytes).toBe(before);
      const { ckpt } = await fixtureCheckpoint();
      for (let i = 0; i < 3; i++) for (const n of LINEAR_NAMES) expect(await model.readLinear(i, n)).toEqual(await ckpt.readF32(`model.layers.${i}.${n}.weight`));
      const layerEvents = events.filter((ev) => ev.kind === 'layer');
      expect(layerEvents.slice(0, 3).map((ev) => ev.kind === 'layer' && ev.phase)).toEqual(['forward', 'prune', 'recompute']);
      model.destroy();
    });
  }
});

/** Counts the model's layer forwards (one per paced call) and runs `onCall(k)` before the k-th. */
function countForwards(model: LlamaModel, onCall?: (k: number) => void): { calls: number } {
  const c = { calls: 0 };
  const forward = model.forwardLayer.bind(model);
  model.forwardLayer = (...args) => {
    c.calls++;
    onCall?.(c.calls);
    return forward(...args);
  };
  return c;
}

describe('paced calibration passes (src/prune/pass.ts)', () => {
  // A pacer whose target is ~0 ms: every call is one window, whatever the machine's speed; one whose
  // target is huge: every chunk (16 windows of 64 tokens) in one call, as before pacing.
  const oneWindow = () => new Pacer(1e-9, 1);
  const wholeChunk = () => new Pacer(1e12, 1e9);
  // 6 windows in chunks of 4 (256 tokens): a whole chunk and a part of one, so calls start mid-batch;
  // wanda-lang's sources (3 + 3 windows) split the second chunk.
  const cases: [string, Partial<PruneModelOptions>, number][] = [
    ['sparsegpt, OWL', { method: 'sparsegpt', profile: 'owl' }, 14],
    ['wanda-lang over two sources, with the reconstruction error', { method: 'wanda-lang', reconstructionError: true }, 9],
  ];
  for (const [what, o, passes] of cases) {
    it(`${what}: calls of one window give bitwise the weights of one call per chunk`, async () => {
      const all = await fixtureWindows('calib-en.safetensors');
      const calib = { ids: all.ids.slice(0, 6 * all.seqlen), n: 6, seqlen: all.seqlen, sources: [{ name: 'a', samples: 3 }, { name: 'b', samples: 3 }] };
      const run = async (pacer: Pacer) => {
        const model = await freshModel();
        const fwd = countForwards(model);
        const weights: Float32Array[] = [];
        const report = await pruneModel(model, calib, { method: 'wanda', sparsity: 0.5, ...o, maxChunkTokens: 4 * calib.seqlen, pacer, onMatrixPruned: (_i, _n, w) => void weights.push(w) });
        model.destroy();
        return { weights, calls: fwd.calls, report };
      };
      const whole = await run(wholeChunk());
      const paced = await run(oneWindow());
      // per layer pass (OWL's 5, the statistics' 5, the recompute's 4): one call per chunk, or per window
      expect(whole.calls).toBe(passes * 2);
      expect(paced.calls).toBe(passes * 6);
      expect(paced.weights.length).toBe(35);
      paced.weights.forEach((w, k) => expect(w, `matrix ${k}`).toEqual(whole.weights[k]));
      expect(paced.report.perMatrix).toEqual(whole.report.perMatrix);
    });
  }

  for (const [at, what] of [
    [3, 'the statistics pass'],
    [16 + 3, 'the recompute of the layer input'],
  ] as const) {
    it(`an abort during ${what} is seen after the call in flight: no further forward, dense weights, GPU memory freed`, async () => {
      const model = await freshModel();
      const calib = await fixtureWindows('calib-en.safetensors');
      await model.tokenNll([calib.ids.slice(0, calib.seqlen)]); // the RoPE table for 64 tokens, kept by the model
      const before = gpu.memory().liveBytes;
      const ac = new AbortController();
      let callsAtAbort = 0;
      const fwd = countForwards(model, (k) => {
        if (k === at) {
          ac.abort();
          callsAtAbort = k;
        }
      });
      const e = await errorOf(pruneModel(model, calib, { method: 'sparsegpt', sparsity: 0.5, signal: ac.signal, pacer: oneWindow() }));
      expect(e.code).toBe('CANCELLED');
      // unpaced, the call in flight was the whole chunk of 16 windows; now it is one window
      expect(fwd.calls).toBe(callsAtAbort);
      expect(gpu.memory().liveBytes).toBe(before);
      const { ckpt } = await fixtureCheckpoint();
      for (const n of LINEAR_NAMES) expect(await model.readLinear(0, n)).toEqual(await ckpt.readF32(`model.layers.0.${n}.weight`));
      model.destroy();
    });
  }
});

describe('SparseGPT through pruneModel (shared Hessians, sequential)', () => {
  for (const [variant, opts] of [
    ['sparsegpt-unstructured-0.5-en', { sparsity: 0.5 }],
    ['sparsegpt-2of4-en', { nm: { n: 2, m: 4 } }],
  ] as const) {
    it(`${variant}: zero counts, mask agreement >= 0.999 per matrix, perplexity within 1 %`, async () => {
      const model = await freshModel();
      const calib = await fixtureWindows('calib-en.safetensors');
      const weights = new Map<string, Float32Array>();
      const report = await pruneModel(model, calib, { method: 'sparsegpt', ...opts, onMatrixPruned: (i, n, w) => void weights.set(`model.layers.${i}.${n}.weight`, w) });
      const ref = await fixtureTensors(`${variant}.safetensors`);
      const metrics = fixtureMetrics().variants[variant];
      for (const m of report.perMatrix) {
        const mask = await ref.readI32(`mask.${m.tensor}`);
        const w = weights.get(m.tensor)!;
        let agree = 0;
        for (let e = 0; e < mask.length; e++) if ((w[e] !== 0 ? 1 : 0) === mask[e]) agree++;
        expect(agree / mask.length, m.tensor).toBeGreaterThanOrEqual(0.999);
        expect(Math.abs(m.zeros - metrics.per_matrix[m.tensor].zeros), m.tensor).toBeLessThanOrEqual(0);
      }
      await ref.close();
      const { ids, n, seqlen } = await fixtureWindows('eval-en.safetensors');
      const nll = await model.tokenNll(Array.from({ length: n }, (_, i) => ids.slice(i * seqlen, (i + 1) * seqlen)));
      const flat = nll.flatMap((w) => Array.from(w));
      const ppl = Math.exp(flat.reduce((a, b) => a + b, 0) / flat.length);
      const want = metrics.eval['eval-en'].ppl;
      expect(Math.abs(ppl - want) / want, `ppl ${ppl} vs ${want}`).toBeLessThan(0.01);
      model.destroy();
    });
  }
});
