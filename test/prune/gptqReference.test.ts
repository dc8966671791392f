/**
 * GPTQ (src/prune/gptq.ts, the engine's sequential run) on the stories260K fixture against the
 * independent float64 numpy reference (tools/gptq-reference/gptq_ref.py, written from Frantar et al.
 * and IST-DASLab/gptq), French calibration windows made here from the bundled French text.
 * Integer codes, zeros and g_idx must equal the reference's and scales agree to float32 accuracy.
 * Where float32 rounded a value to the other side of a rounding tie (the reference's margin there is
 * below 1e-3 code units), the first differing code of the row in quantization order, the reference is
 * run again taking the engine's code at that tie (its `force` input, which it refuses anywhere else),
 * since the flip changes the rest of the row through the error feedback; such ties are counted and
 * printed, and after them everything must agree, perplexity of the dequantized model to 1e-5.
 * Bad input is refused in one line.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Gpu } from '../../src/gpu/device';
import { dirFolder } from '../../src/io/node';
import { loadModelConfig } from '../../src/io/config';
import { openCheckpoint } from '../../src/io/safetensors';
import { loadTokenizerFromFolder } from '../../src/io/tokenizer';
import { LlamaModel } from '../../src/model/llama';
import { pruneModel, type PruneModelOptions } from '../../src/prune/run';
import type { GptqResult } from '../../src/prune/gptq';
import { FIXTURE, requireShared } from '../helpers/fixture';
import { testGpu } from '../helpers/gpu';
import { readF64, readI32, runPythonReference } from '../helpers/pythonRef';

const BUNDLED = path.resolve('public/models/polyprune-ml');
const FRENCH = readFileSync(path.join(BUNDLED, 'calib/fr.txt'), 'utf8');
const TIE = 1e-3;
let gpu: Gpu;
let tmp: string;
beforeAll(async () => {
  requireShared(FIXTURE);
  gpu = await testGpu();
  tmp = mkdtempSync(path.join(tmpdir(), 'polyprune-gptq-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function frenchWindows(dir: string, n: number, seqlen: number, skip = 0): Promise<number[][]> {
  const tok = await loadTokenizerFromFolder(dirFolder(dir));
  const ids = Array.from(tok.encode(FRENCH.slice(0, 40_000), { addSpecialTokens: false }));
  expect(ids.length).toBeGreaterThanOrEqual((skip + n) * seqlen);
  return Array.from({ length: n }, (_, i) => ids.slice((skip + i) * seqlen, (skip + i + 1) * seqlen));
}

interface Ref {
  codes: Uint8Array;
  gidx: Int32Array;
  scales: Float64Array;
  zeros: Float64Array;
  margin: Float64Array;
  order: Int32Array;
  ppl: number;
}

function reference(dir: string, job: object): Ref {
  const jobPath = path.join(tmp, 'job.json');
  const out = path.join(tmp, 'ref');
  writeFileSync(jobPath, JSON.stringify(job));
  runPythonReference('GPTQ', 'tools/gptq-reference/gptq_ref.py', [dir, jobPath, out]);
  return {
    order: readI32(`${out}.order`),
    codes: new Uint8Array(readFileSync(`${out}.codes`)),
    gidx: readI32(`${out}.gidx`),
    scales: readF64(`${out}.scales`),
    zeros: readF64(`${out}.zeros`),
    margin: readF64(`${out}.margin`),
    ppl: JSON.parse(readFileSync(`${out}.json`, 'utf8')).ppl,
  };
}

async function loadModel(dir: string): Promise<{ model: LlamaModel; close(): Promise<void> }> {
  const folder = dirFolder(dir);
  const ckpt = await openCheckpoint(folder);
  const model = await LlamaModel.load(gpu, await loadModelConfig(folder), ckpt, { resident: true });
  return {
    model,
    close: async () => {
      model.destroy();
      await ckpt.close();
    },
  };
}

async function quantizeOnGpu(
  dir: string,
  calib: number[][],
  evalWin: number[][],
  quantize: NonNullable<PruneModelOptions['quantize']>,
  prune: Pick<PruneModelOptions, 'method' | 'sparsity' | 'nm'> = { method: 'gptq' },
): Promise<{ q: GptqResult[]; shapes: [number, number][]; ppl: number; weights: Float32Array[] }> {
  const { model, close } = await loadModel(dir);
  const q: GptqResult[] = [];
  const weights: Float32Array[] = [];
  try {
    const report = await pruneModel(model, { ids: Int32Array.from(calib.flat()), n: calib.length, seqlen: calib[0].length }, { ...prune, quantize, onQuantized: (_l, _n, r) => void q.push(r), onMatrixPruned: (_l, _n, w) => void weights.push(w.slice()) });
    expect(report.method).toBe(prune.method);
    const nll = await model.tokenNll(evalWin.map((w) => Int32Array.from(w)));
    let sum = 0;
    let n = 0;
    for (const a of nll) {
      for (const v of a) sum += v;
      n += a.length;
    }
    return { q, shapes: report.perMatrix.map((m) => m.shape), ppl: Math.exp(sum / n), weights };
  } finally {
    await close();
  }
}

/**
 * Rows that differ from the reference; for each, its first differing code in quantization order as a
 * `force` entry when it lies at a tie (else a message); scale agreement in the other rows.
 */
function compare(got: GptqResult[], ref: Ref, shapes: [number, number][]): { rows: number; flipRows: number; ties: number[][]; notTies: string[]; notTieAt: number[]; worstScale: number; firstMatrix: number } {
  let base = 0;
  let gbase = 0;
  let pbase = 0;
  let rowsAll = 0;
  let flipRows = 0;
  let worstScale = 0;
  const notTies: string[] = [];
  const notTieAt: number[] = [];
  const ties: number[][] = [];
  let firstMatrix = -1;
  shapes.forEach(([N, K], j) => {
    const g = got[j];
    const groups = g.scales.length / N;
    for (let c = 0; c < K; c++) expect(g.gIdx[c], `matrix ${j} g_idx[${c}]`).toBe(ref.gidx[gbase + c]);
    for (let r = 0; r < N; r++) {
      rowsAll++;
      let differ = false;
      let first = -1;
      for (let k = 0; k < K && first < 0; k++) {
        const c = ref.order[gbase + k];
        if (g.codes[r * K + c] !== ref.codes[base + r * K + c]) first = c;
      }
      if (first >= 0) {
        differ = true;
        if (firstMatrix < 0) firstMatrix = j;
        if (ref.margin[base + r * K + first] < TIE) ties.push([j, r, first, g.codes[r * K + first]]);
        else {
          notTieAt.push(j);
          notTies.push(`matrix ${j} row ${r} column ${first}: code ${g.codes[r * K + first]}, reference ${ref.codes[base + r * K + first]}, margin ${ref.margin[base + r * K + first]}`);
        }
      }
      for (let k = 0; k < groups; k++) {
        const rs = ref.scales[pbase + r * groups + k];
        if (g.zeros[r * groups + k] !== ref.zeros[pbase + r * groups + k]) differ = true;
        else if (!differ) worstScale = Math.max(worstScale, Math.abs(g.scales[r * groups + k] - rs) / rs);
      }
      if (differ) flipRows++;
    }
    base += N * K;
    gbase += K;
    pbase += N * groups;
  });
  expect(base).toBe(ref.codes.length);
  return { rows: rowsAll, flipRows, ties, notTies, notTieAt, worstScale, firstMatrix };
}

describe('GPTQ against the float64 reference', () => {
  const jobs = [
    { bits: 4, groupSize: 128 },
    { bits: 3, groupSize: 32, actOrder: true },
    { bits: 8, groupSize: -1 },
    { bits: 2, groupSize: 64, actOrder: true, staticGroups: true },
  ];
  for (const job of jobs) {
    it(`stories260K, French windows made here: ${JSON.stringify(job)} codes, scales, zeros and perplexity equal the reference's`, async () => {
      const calib = await frenchWindows(FIXTURE, 4, 64);
      const evalWin = await frenchWindows(FIXTURE, 2, 64, 4);
      const got = await quantizeOnGpu(FIXTURE, calib, evalWin, job);
      const refJob = { calib, eval: evalWin, bits: job.bits, groupsize: job.groupSize, actorder: !!job.actOrder, static_groups: !!job.staticGroups };
      const force: number[][] = [];
      let ref = reference(FIXTURE, refJob);
      let cmp = compare(got.q, ref, got.shapes);
      // A tie taken the other way in one layer changes the next layers' inputs a little: a few rounds.
      for (let round = 0; round < 3 && cmp.flipRows > 0 && cmp.notTies.length === 0; round++) {
        force.push(...cmp.ties);
        ref = reference(FIXTURE, { ...refJob, force });
        cmp = compare(got.q, ref, got.shapes);
      }
      console.log(`GPTQ ${JSON.stringify(job)}: ${force.length} code(s) of ${cmp.rows} rows at float32 rounding ties taken the engine's way; then ${cmp.flipRows} rows differ; worst scale rel. difference ${cmp.worstScale.toExponential(2)}; ppl ${got.ppl} vs reference ${ref.ppl}`);
      expect(cmp.notTies).toEqual([]);
      expect(cmp.flipRows).toBe(0);
      expect(force.length).toBeLessThanOrEqual(5);
      expect(cmp.worstScale).toBeLessThan(1e-5);
      expect(Math.abs(got.ppl - ref.ppl) / ref.ppl).toBeLessThan(1e-5);
    });
  }

  // SparseGPT's joint mode: prune (2:4 or 50 %) and quantize the kept weights to 4 bits per channel in one pass.
  // A code float32 rounds to the other side of a tie changes the next layers' inputs, hence their Hessians and
  // (unstructured) their masks: everything after it may differ. So, round by round, only the ties of the first
  // matrix that differs are taken the engine's way (the reference refuses any that is not at a tie, or pruned);
  // a difference there that is not at a tie fails. On the fixture 50 % needs one (layer 2 gate_proj, margin
  // 4.7e-8 code units; without it 433 of 3000 rows differ from layer 3 on and perplexity by 4 %), 2:4 none.
  for (const prune of [{ nm: { n: 2, m: 4 } }, { sparsity: 0.5 }]) {
    it(`SparseGPT ${JSON.stringify(prune)} + 4-bit (joint mode), stories260K: masks and codes equal the reference's`, async () => {
      const calib = await frenchWindows(FIXTURE, 4, 64);
      const evalWin = await frenchWindows(FIXTURE, 2, 64, 4);
      const got = await quantizeOnGpu(FIXTURE, calib, evalWin, { bits: 4 }, { method: 'sparsegpt', ...prune });
      const refJob = { calib, eval: evalWin, bits: 4, prune: 'nm' in prune ? prune.nm : prune };
      const force: number[][] = [];
      let ref = reference(FIXTURE, refJob);
      let cmp = compare(got.q, ref, got.shapes);
      for (let round = 0; round < 3 && cmp.flipRows > 0 && !cmp.notTieAt.includes(cmp.firstMatrix); round++) {
        force.push(...cmp.ties.filter((t) => t[0] === cmp.firstMatrix));
        ref = reference(FIXTURE, { ...refJob, force });
        cmp = compare(got.q, ref, got.shapes);
      }
      const mask = new Uint8Array(readFileSync(path.join(tmp, 'ref.mask')));
      console.log(`SparseGPT ${JSON.stringify(prune)} + 4-bit: ${force.length} code(s) at float32 rounding ties taken the engine's way (${JSON.stringify(force)}); then ${cmp.flipRows} of ${cmp.rows} rows differ; worst scale rel. difference ${cmp.worstScale.toExponential(2)}; ppl ${got.ppl} vs reference ${ref.ppl}`);
      expect(cmp.notTies).toEqual([]);
      expect(cmp.flipRows).toBe(0);
      expect(force.length).toBeLessThanOrEqual(3);
      expect(cmp.worstScale).toBeLessThan(1e-5);
      // the mask: every weight the reference prunes is exactly 0 in the engine, and where the reference
      // keeps a weight the engine's code is the reference's (codes are equal everywhere, above)
      let base = 0;
      let pruned = 0;
      got.shapes.forEach(([N, K], j) => {
        for (let k = 0; k < N * K; k++) {
          if (mask[base + k]) {
            pruned++;
            expect(got.weights[j][k], `matrix ${j} entry ${k}`).toBe(0);
            expect(got.q[j].codes[k]).toBe(got.q[j].zeros[Math.floor(k / K)]);
          }
        }
        base += N * K;
      });
      expect(pruned / base).toBeCloseTo(0.5, 2);
      expect(Math.abs(got.ppl - ref.ppl) / ref.ppl).toBeLessThan(1e-5);
    });
  }

  it('refuses bad input in one line', async () => {
    const { model, close } = await loadModel(FIXTURE);
    const calib = { ids: new Int32Array(64).fill(5), n: 1, seqlen: 64 };
    try {
      await expect(pruneModel(model, calib, { method: 'gptq', quantize: { bits: 5 } })).rejects.toThrow(/^GPTQ quantizes to 2, 3, 4 or 8 bits, got 5/);
      await expect(pruneModel(model, calib, { method: 'gptq', quantize: { bits: 4, groupSize: 0 } })).rejects.toThrow(/group size must be a positive number/);
      await expect(pruneModel(model, calib, { method: 'gptq', sparsity: 0.5, quantize: { bits: 4 } })).rejects.toThrow(/quantizes and prunes nothing/);
      await expect(pruneModel(model, calib, { method: 'gptq' })).rejects.toThrow(/give the bits/);
      await expect(pruneModel(model, calib, { method: 'wanda', sparsity: 0.5, quantize: { bits: 4 } })).rejects.toThrow(/takes no bits/);
      await expect(pruneModel(model, calib, { method: 'sparsegpt', nm: { n: 2, m: 4 }, quantize: { bits: 4, groupSize: 128 } })).rejects.toThrow(/joint prune \+ quantize mode quantizes per channel/);
      await expect(pruneModel(model, calib, { method: 'sparsegpt', sparsity: 0.5, quantize: { bits: 6 } })).rejects.toThrow(/GPTQ quantizes to 2, 3, 4 or 8 bits, got 6/);
    } finally {
      await close();
    }
  });
});
