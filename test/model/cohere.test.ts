/**
 * Cohere (CohereForCausalLM, Aya-23) against the independent float64 numpy reference
 * tools/cohere-reference/cohere_ref.py, on small random-weight checkpoints in Cohere layout written by
 * the test: dense logits (with and without q/k norm, odd sizes), Wanda masks layer by layer (the
 * parallel block feeds ln(x) to q/k/v and gate/up), logits of the pruned model, SparseGPT, and the HF
 * export read back.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import type { Gpu } from '../../src/gpu/device';
import { LlamaModel, LINEAR_NAMES } from '../../src/model/llama';
import { loadModelConfig, expectedTensors } from '../../src/io/config';
import { openCheckpoint, safetensorsBytes } from '../../src/io/safetensors';
import { dirFolder } from '../../src/io/node';
import { pruneModel } from '../../src/prune/run';
import { runCli } from '../helpers/cli';
import { writeFileSync } from 'node:fs';
import { testGpu, expectClose, randn } from '../helpers/gpu';
import { tempDir } from '../helpers/shared';
import { writeCohereCheckpoint, runCohereReference, type CohereDims } from '../helpers/cohere';

let gpu: Gpu;
let tmp: { dir: string; remove: () => Promise<void> };
beforeAll(async () => {
  gpu = await testGpu();
  tmp = await tempDir('polyprune-cohere-');
});
afterAll(async () => {
  await tmp?.remove();
});

function ids(n: number, len: number, seed: number, V: number): number[][] {
  const r = randn(n * len, seed, 1);
  return Array.from({ length: n }, (_, i) => Array.from({ length: len }, (_, t) => Math.floor(((r[i * len + t] + 1) / 2) * V) % V));
}

async function load(dir: string, resident = true) {
  const folder = dirFolder(dir);
  const cfg = await loadModelConfig(folder);
  const ckpt = await openCheckpoint(folder);
  const model = await LlamaModel.load(gpu, cfg, ckpt, { resident });
  return { cfg, ckpt, model };
}

async function logitsOf(model: LlamaModel, seq: number[]): Promise<Float32Array> {
  const x = await model.forwardHidden(Int32Array.from(seq), seq.length);
  const lt = model.logits(x, seq.length);
  const out = await gpu.readF32(lt);
  x.destroy();
  lt.destroy();
  return out;
}

const SMALL: CohereDims = { hidden: 64, ffn: 120, layers: 2, heads: 4, kvHeads: 2, vocab: 512, qkNorm: true, logitScale: 0.3 };

describe('Cohere forward against the float64 reference (modeling_cohere.py semantics)', () => {
  for (const [label, dims] of [
    ['q/k norm, GQA 4/2, F 120, logit_scale 0.3', SMALL],
    ['no q/k norm, MHA, biases, head_dim 24, logit_scale 0.0625', { hidden: 96, ffn: 200, layers: 2, heads: 4, kvHeads: 4, vocab: 512, qkNorm: false, logitScale: 0.0625, attentionBias: true }],
  ] as [string, CohereDims][]) {
    it(`dense logits (${label}) agree to 1e-4 of the largest`, async () => {
      const dir = join(tmp.dir, label.replace(/[^a-z0-9]/gi, '_'));
      writeCohereCheckpoint(dir, dims, 3);
      const evalSeqs = ids(2, 37, 11, dims.vocab);
      const ref = runCohereReference(dir, { eval: evalSeqs });
      const { cfg, ckpt, model } = await load(dir);
      expect(cfg).toMatchObject({ modelType: 'cohere', normType: 'layer', parallelBlock: true, ropeInterleaved: true, qkNorm: dims.qkNorm, logitScale: dims.logitScale, tieWordEmbeddings: true });
      expect(expectedTensors(cfg).some((t) => t.name.includes('post_attention_layernorm'))).toBe(false);
      const got: number[] = [];
      for (const s of evalSeqs) got.push(...(await logitsOf(model, s)));
      const scale = ref.logits.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(scale).toBeGreaterThan(0.1);
      expectClose(got, ref.logits, 1e-4 * scale, 0, 'cohere logits');
      model.destroy();
      await ckpt.close();
    });
  }

  it('a streamed model gives the same NLL as a resident one', async () => {
    const dir = join(tmp.dir, 'stream');
    writeCohereCheckpoint(dir, SMALL, 5);
    const a = await load(dir, true);
    const b = await load(dir, false);
    const seq = Int32Array.from(ids(1, 40, 3, 512)[0]);
    const [x] = await a.model.tokenNll([seq]);
    const [y] = await b.model.tokenNll([seq]);
    expect(Array.from(y)).toEqual(Array.from(x));
    for (const m of [a, b]) {
      m.model.destroy();
      await m.ckpt.close();
    }
  });
});

describe('pruning a Cohere model', () => {
  for (const job of [{ sparsity: 0.5 }, { nm: [2, 4] as [number, number] }]) {
    const what = job.nm ? '2:4' : 'unstructured 0.5';
    it(`Wanda ${what}: every mask equals the reference's, and the pruned logits agree`, async () => {
      const dir = join(tmp.dir, `wanda-${what.replace(/[^a-z0-9]/gi, '_')}`);
      writeCohereCheckpoint(dir, SMALL, 7);
      const calib = ids(4, 24, 21, 512);
      const evalSeqs = ids(1, 30, 31, 512);
      const ref = runCohereReference(dir, { eval: evalSeqs, calib, ...job });
      const { ckpt, model } = await load(dir);
      const masks: number[] = [];
      const report = await pruneModel(
        model,
        { ids: Int32Array.from(calib.flat()), n: calib.length, seqlen: calib[0].length },
        {
          method: 'wanda',
          ...(job.nm ? { nm: { n: job.nm[0], m: job.nm[1] } } : { sparsity: job.sparsity }),
          onMatrixPruned: (_l, _n, w) => {
            for (const v of w) masks.push(v === 0 ? 1 : 0);
          },
        },
      );
      expect(report.perMatrix.length).toBe(SMALL.layers * LINEAR_NAMES.length);
      expect(masks.length).toBe(ref.masks!.length);
      let diff = 0;
      for (let i = 0; i < masks.length; i++) if (masks[i] !== ref.masks![i]) diff++;
      expect(diff).toBe(0);
      const got = await logitsOf(model, evalSeqs[0]);
      const scale = ref.prunedLogits!.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expectClose(got, ref.prunedLogits!, 1e-4 * scale, 0, 'pruned cohere logits');
      model.destroy();
      await ckpt.close();
    });
  }

  it('SparseGPT 2:4 prunes every matrix to 50 %; the CLI prunes a Cohere folder, exports it, and the export loads with the same logits', async () => {
    const dir = join(tmp.dir, 'sparsegpt');
    writeCohereCheckpoint(dir, SMALL, 9);
    const calib = ids(4, 24, 41, 512);
    const { ckpt, model } = await load(dir);
    const report = await pruneModel(model, { ids: Int32Array.from(calib.flat()), n: 4, seqlen: 24 }, { method: 'sparsegpt', nm: { n: 2, m: 4 } });
    for (const m of report.perMatrix) expect(m.sparsity).toBe(0.5);
    const seq = ids(1, 30, 51, 512)[0];
    const inProcess = await logitsOf(model, seq);
    expect(inProcess.every(Number.isFinite)).toBe(true);
    model.destroy();
    await ckpt.close();

    // The same run through the CLI, from explicit token windows, written as a HF folder.
    const windows = join(tmp.dir, 'windows.safetensors');
    writeFileSync(windows, safetensorsBytes([{ name: 'input_ids', dtype: 'I32', shape: [4, 24], data: Int32Array.from(calib.flat()) }]));
    const out = join(tmp.dir, 'sparsegpt-out');
    const r = runCli(['prune', '--model', dir, '--method', 'sparsegpt', '--nm', '2:4', '--calib-tokens', windows, '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const exported = await load(out);
    expect(exported.cfg.modelType).toBe('cohere');
    const q = await exported.ckpt.readF32('model.layers.1.mlp.down_proj.weight');
    expect(q.filter((v) => v === 0).length).toBe(q.length / 2);
    const got = await logitsOf(exported.model, seq);
    expectClose(got, inProcess, 1e-6, 1e-5, 'exported cohere logits');
    exported.model.destroy();
    await exported.ckpt.close();
  });
});
