/**
 * Exports that store GPTQ's integer codes (docs/export.md, "Quantized exports"): GPTQ 4-bit on the
 * stories260K fixture (French windows made here), exported as ONNX MatMulNBits (onnx/model_q4.onnx)
 * and run in onnxruntime-node and transformers.js (dtype 'q4', local folder): logits equal the
 * engine's dequantized forward to 1e-4 of the largest logit. The refusals, and exportedBytes against
 * the written files.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LocalEngine } from '../../src/engine/local';
import { nodeOutputSink } from '../../src/export/node';
import { FIXTURE, requireShared } from '../helpers/fixture';
import { fixtureEngine } from '../helpers/engine';
import { relMaxErr } from '../helpers/gpu';
import { engineGreedy, offlineTransformers, ortLogits } from '../helpers/onnx';

const FRENCH = readFileSync(path.resolve('public/models/polyprune-ml/calib/fr.txt'), 'utf8');
let engine: LocalEngine;
let tmp: string;
let baseId: string;
const q: Record<string, string> = {};

async function quantize(bits: number, groupSize: number, extra: { actOrder?: boolean; staticGroups?: boolean } = {}): Promise<string> {
  const r = await engine.prune(baseId, { method: 'gptq', quantize: { bits, groupSize, ...extra }, calibration: { texts: [{ name: 'fr.txt', text: FRENCH, language: 'fr' }], nsamples: 4, seqlen: 64, seed: 0 } });
  return r.model.id;
}

beforeAll(async () => {
  requireShared(FIXTURE);
  tmp = mkdtempSync(path.join(tmpdir(), 'polyprune-qexport-'));
  const f = await fixtureEngine();
  engine = f.engine;
  baseId = f.base.id;
  q.g64 = await quantize(4, 64);
});
afterAll(async () => {
  await engine?.dispose();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('ONNX MatMulNBits', () => {
  it('q4: onnxruntime-node and transformers.js (dtype q4) logits equal the dequantized forward, same greedy continuation; q8 and q2 in onnxruntime-node', async () => {
    const out = path.join(tmp, 'q4');
    await engine.exportTo(q.g64, await nodeOutputSink(out), { format: 'onnx' });
    expect(existsSync(path.join(out, 'onnx/model_q4.onnx'))).toBe(true);
    expect(existsSync(path.join(out, 'onnx/model.onnx'))).toBe(false);
    const config = JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8'));
    expect(config['transformers.js_config'].dtype).toBe('q4');
    const rec = JSON.parse(readFileSync(path.join(out, 'pruning.json'), 'utf8'));
    expect(rec.quantization).toMatchObject({ bits: 4, group_size: 64, weights: 'matmulnbits' });
    const m = (await engine.listModels()).find((x) => x.id === q.g64)!;
    const prompt = 'Le chat est sur la table et il dort.';
    const ids = await engine.tokenize(q.g64, prompt);
    const want = await engine.logits(q.g64, ids);
    const err = relMaxErr(await ortLogits(path.join(out, 'onnx/model_q4.onnx'), ids, m), want);
    console.log(`onnxruntime-node q4 vs PolyPrune's dequantized forward: ${err.toExponential(2)} of max |logit|`);
    expect(err).toBeLessThan(1e-4);

    const { AutoModelForCausalLM, AutoTokenizer } = await offlineTransformers(tmp);
    const tokenizer = await AutoTokenizer.from_pretrained('q4');
    const model = await AutoModelForCausalLM.from_pretrained('q4', { dtype: 'q4', device: 'cpu' });
    const enc = tokenizer(prompt, { add_special_tokens: false });
    expect(Array.from(enc.input_ids.data as BigInt64Array, Number)).toEqual(Array.from(ids));
    const tErr = relMaxErr((await model(enc)).logits.data as Float32Array, want);
    console.log(`transformers.js q4 vs PolyPrune's dequantized forward: ${tErr.toExponential(2)} of max |logit|`);
    expect(tErr).toBeLessThan(1e-4);
    // greedy continuation with the KV cache: the same tokens as PolyPrune's dequantized forward
    const steps = 5;
    const gen = (await model.generate({ ...enc, max_new_tokens: steps, do_sample: false })) as { tolist(): bigint[][] };
    const tjs = gen.tolist()[0].map(Number).slice(ids.length);
    expect(tjs).toEqual(await engineGreedy(engine, q.g64, ids, steps));
    await model.dispose();

    for (const [bits, file] of [[8, 'model_quantized.onnx'], [2, 'model_q2.onnx']] as const) {
      const id = await quantize(bits, 32);
      const o = path.join(tmp, `q${bits}`);
      await engine.exportTo(id, await nodeOutputSink(o), { format: 'onnx' });
      const ids2 = await engine.tokenize(id, prompt);
      const e = relMaxErr(await ortLogits(path.join(o, 'onnx', file), ids2, m), await engine.logits(id, ids2));
      console.log(`onnxruntime-node ${bits}-bit (${file}) vs PolyPrune: ${e.toExponential(2)} of max |logit|`);
      expect(e).toBeLessThan(1e-4);
      await engine.unloadModel(id);
    }
  });

  it('refuses in one line, writing nothing, what MatMulNBits or hf-gptq cannot hold', async () => {
    const cases: [string, Parameters<LocalEngine['exportTo']>[2], RegExp][] = [
      [await quantize(4, 32, { actOrder: true }), { format: 'onnx' }, /act-order without static groups .* --static-groups, or export as hf-gptq \(which stores g_idx\)/],
      [await quantize(3, 32), { format: 'onnx' }, /2-, 4- or 8-bit codes .* not 3-bit/],
      [q.g64, { format: 'hf-gptq' }, /'model\.layers\.0\.mlp\.down_proj\.weight' is 64 x 172 \(out x in\), not a multiple of 8/],
      [q.g64, { format: 'onnx', onnxVariants: ['q8'] }, /ONNX q8 needs a 8-bit model; this one is quantized to 4 bits/],
      [baseId, { format: 'onnx', onnxVariants: ['q4'] }, /quantize the model first/],
      [baseId, { format: 'hf-gptq' }, /quantize the model first/],
    ];
    for (const [k, [id, req, msg]] of cases.entries()) {
      const out = path.join(tmp, `refused-${k}`);
      const err = await engine.exportTo(id, await nodeOutputSink(out), req).then(
        () => null,
        (e: Error) => e,
      );
      expect(err?.message ?? `case ${k} exported`, JSON.stringify(req)).toMatch(msg);
      expect(err!.message.includes('\n')).toBe(false);
      expect(existsSync(out)).toBe(false);
      expect(readdirSync(tmp).some((f) => f.startsWith(`refused-${k}.partial`))).toBe(false);
    }
    // The same checks from the settings and shapes alone (what the CLI runs before the calibration pass).
    const { checkQuantizedExport, quantizableShapes } = await import('../../src/engine');
    const shapes = quantizableShapes((await engine.listModels()).find((x) => x.id === baseId)!);
    const refuse = (format: 'onnx' | 'hf-gptq', bits: number, groupSize: number) => () => checkQuantizedExport(format, { bits, groupSize, actOrder: false, staticGroups: false }, shapes);
    expect(refuse('onnx', 4, -1)).toThrow(/per-channel quantization of 'model\.layers\.0\.mlp\.down_proj\.weight' \(172 input columns\) would need block_size 172/);
    expect(refuse('onnx', 4, 48)).toThrow(/power-of-two block_size of at least 16; group size 48 is not/);
    expect(refuse('onnx', 4, 8)).toThrow(/group size 8 is not/);
    expect(refuse('hf-gptq', 3, 32)).toThrow(/packs 32 3-bit values per 3 int32 words along both sides of a matrix; 'model\.layers\.0\.mlp\.gate_proj\.weight' is 172 x 64 \(out x in\), not a multiple of 32; export as hf \(dequantized\)\./);
    expect(refuse('hf-gptq', 5, 32)).toThrow(/hf-gptq format for 2, 3, 4 and 8 bits, not 5/);
    expect(refuse('onnx', 8, 16)).not.toThrow();
  });
});

/** Sizes of the files under `dir` whose names `exportedBytes` counts (relative paths). */
function fileSizes(dir: string, names: string[]): Record<string, number> {
  return Object.fromEntries(names.map((n) => [n, statSync(path.join(dir, n)).size]));
}

describe('exportedBytes', () => {
  it('equals the written files: hf (one file and shards), onnx fp32+fp16 (embedded and external data), onnx q4', async () => {
    const { exportedBytes, checkpointTensors } = await import('../../src/engine/local');
    const cases: { id: string; req: Parameters<LocalEngine['exportTo']>[2] }[] = [
      { id: baseId, req: { format: 'hf' } },
      { id: baseId, req: { format: 'hf', maxShardBytes: 400_000 } },
      { id: baseId, req: { format: 'onnx' } },
      { id: baseId, req: { format: 'onnx', onnxVariants: ['fp16'], externalDataThreshold: 1000 } },
      { id: q.g64, req: { format: 'onnx' } },
      { id: q.g64, req: { format: 'hf' } },
    ];
    const sizes = await engine.exportSizes(q.g64);
    for (const [k, c] of cases.entries()) {
      const out = path.join(tmp, `size-${k}`);
      await engine.exportTo(c.id, await nodeOutputSink(out), c.req);
      const m = (engine as unknown as { get(id: string): { cfg: never; checkpoint: never; pruning?: { record: never; quantized: { settings: never } | null } } }).get(c.id);
      const rec = existsSync(path.join(out, 'pruning.json')) ? JSON.parse(readFileSync(path.join(out, 'pruning.json'), 'utf8')) : null;
      const want = exportedBytes({ cfg: m.cfg, tensors: checkpointTensors(m.checkpoint), format: c.req!.format as 'hf', quant: m.pruning?.quantized?.settings ?? null, record: rec, onnxVariants: c.req!.onnxVariants, maxShardBytes: c.req!.maxShardBytes, externalDataThreshold: c.req!.externalDataThreshold });
      expect(Object.keys(want.files).length).toBeGreaterThan(0);
      expect(fileSizes(out, Object.keys(want.files)), JSON.stringify(c.req)).toEqual(want.files);
      if (c.id === q.g64) {
        const s = sizes[c.req!.format];
        expect('bytes' in s && s.bytes).toBe(want.total);
        expect(rec.quantization.export_bytes[c.req!.format]).toBe(want.total);
      }
    }
    console.log(`stories260K GPTQ 4-bit g64 export sizes: ${JSON.stringify(Object.fromEntries(Object.entries(sizes).map(([f, v]) => [f, 'bytes' in v ? v.bytes : v.refused])))}`);
  });
});
