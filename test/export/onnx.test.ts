/**
 * ONNX round trips: prune the stories260K fixture with Wanda (reference windows), export ONNX, run it
 * with onnxruntime-node and with transformers.js (local folder, no network), and compare with
 * PolyPrune's own forward on the GPU (lavapipe).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import type { ModelSummary } from '../../src/engine/api';
import type { PruneResultRecord } from '../../src/experiment/records';
import type { LocalEngine } from '../../src/engine/local';
import { dirFolder, pathSource } from '../../src/io/node';
import { openSafetensors, type Checkpoint } from '../../src/io/safetensors';
import { nodeOutputSink } from '../../src/export/node';
import { exportOnnx } from '../../src/export/onnx';
import { memorySink } from '../../src/export/sink';
import { FIXTURE, requireShared, fixtureWindows } from '../helpers/fixture';
import { modelRefOf, pruneResultRecord, recordHeader } from '../../src/experiment/records';
import { decodeRecordLink, recordShareLink } from '../../src/experiment/share';
import { LINEAR_NAMES } from '../../src/model/names';
import { fixtureEngine } from '../helpers/engine';
import { relMaxErr } from '../helpers/gpu';
import { emptyPast, engineGreedy, offlineTransformers, ortLogits } from '../helpers/onnx';

let engine: LocalEngine;
let tmp: string;
let prunedId: string;
let baseId: string;
let out: string;
let baseSummary: ModelSummary;
let resultRecord: PruneResultRecord;
const { onnx } = onnxProto;

beforeAll(async () => {
  requireShared(FIXTURE);
  tmp = mkdtempSync(path.join(tmpdir(), 'polyprune-onnx-'));
  const f = await fixtureEngine();
  engine = f.engine;
  const base = f.base;
  baseId = base.id;
  const windows = await fixtureWindows('calib-en.safetensors');
  const res = await engine.prune(base.id, { method: 'wanda', sparsity: 0.5, calibration: { windows } });
  prunedId = res.model.id;
  baseSummary = base;
  resultRecord = pruneResultRecord(recordHeader(modelRefOf(base), 'lavapipe'), { method: 'wanda', sparsity: 0.5, calibration: { windows } }, [], res.report, LINEAR_NAMES);
  out = path.join(tmp, 'onnx-out');
  await engine.exportTo(prunedId, await nodeOutputSink(out), { format: 'onnx' });
});
afterAll(async () => {
  await engine?.dispose();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('ONNX export', () => {
  it('writes the transformers.js layout, recipe.yaml and the calibration windows, and nothing partial', async () => {
    const files = readdirSync(out, { recursive: true }).map(String).sort();
    expect(files).toEqual(['LICENSE', 'calibration.safetensors', 'config.json', 'generation_config.json', 'onnx', 'onnx/model.onnx', 'onnx/model_fp16.onnx', 'pruning.json', 'recipe.yaml', 'tokenizer.json', 'tokenizer_config.json']);
    expect(readdirSync(tmp).filter((f) => f.includes('.partial-'))).toEqual([]);
    const cfg = JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8'));
    expect(cfg['transformers.js_config']).toEqual({ dtype: 'fp32' });
    // The llm-compressor recipe (field names as in its SparsityModifierBase / WandaPruningModifier) and the exact windows.
    expect(readFileSync(path.join(out, 'recipe.yaml'), 'utf8')).toContain('    WandaPruningModifier:\n      sparsity: 0.5\n      mask_structure: "0:0"\n      targets: ["Linear"]\n      ignore: ["re:.*lm_head"]\n');
    const windows = await fixtureWindows('calib-en.safetensors');
    const cal = await openSafetensors(pathSource(path.join(out, 'calibration.safetensors')));
    expect(cal.tensors.get('input_ids')!.shape).toEqual([16, 64]);
    expect(Array.from(await cal.readI32('input_ids'))).toEqual(Array.from(windows.ids));
    await cal.close();
    expect(cfg.num_key_value_heads).toBe(4);
    const m = onnx.ModelProto.decode(readFileSync(path.join(out, 'onnx/model.onnx')));
    expect(Number(m.opsetImport[0].version)).toBeGreaterThanOrEqual(18);
    const names = (vs: onnxProto.onnx.IValueInfoProto[]) => vs.map((v) => v.name);
    expect(names(m.graph!.input!).slice(0, 5)).toEqual(['input_ids', 'attention_mask', 'position_ids', 'past_key_values.0.key', 'past_key_values.0.value']);
    expect(names(m.graph!.output!).slice(0, 3)).toEqual(['logits', 'present.0.key', 'present.0.value']);
    const pkv = m.graph!.input![3].type!.tensorType!.shape!.dim!;
    expect(pkv.map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue)))).toEqual(['batch_size', 4, 'past_sequence_length', 8]);
  });

  it('a model loaded from a local folder: its absolute path stays on this machine, never in the export, the result record or its share link', async () => {
    const abs = path.resolve(FIXTURE);
    expect(baseSummary.localPath).toBe(abs);
    expect(baseSummary.source).toBe("local folder 'stories260K'");
    const pj = JSON.parse(readFileSync(path.join(out, 'pruning.json'), 'utf8'));
    expect(pj.model).toEqual({ source: "local folder 'stories260K'", sha256: baseSummary.sha256, model_type: 'llama' });
    expect(pj.llm_compressor).toEqual({ recipe: 'recipe.yaml', modifier: 'WandaPruningModifier' });
    for (const f of readdirSync(out, { recursive: true }).map(String)) {
      if (existsSync(path.join(out, f)) && !f.endsWith('onnx')) expect(readFileSync(path.join(out, f)).includes(abs), f).toBe(false);
    }
    expect(readFileSync(path.join(out, 'onnx/model.onnx')).includes(abs)).toBe(false);
    expect(resultRecord.model).toMatchObject({ source: "local folder 'stories260K'", sha256: baseSummary.sha256 });
    const { link } = recordShareLink(resultRecord, 'https://lab.example/polyprune/');
    const back = decodeRecordLink(link).record;
    expect(JSON.stringify(back).includes(abs) || JSON.stringify(back).includes(path.dirname(abs))).toBe(false);
    // History re-runs by content hash: the same folder loaded again is the record's model.
    const again = await engine.loadModel({ kind: 'folder', folder: dirFolder(FIXTURE) });
    expect([again.sha256, again.source]).toEqual([back.model.sha256, back.model.source]);
    await engine.unloadModel(again.id);
  });

  it('onnxruntime-node gives PolyPrune logits (fp32 within 1e-4 relative; fp16 weights within 5e-3), and the pruned zeros are zeros', async () => {
    const s = (await engine.listModels()).find((x) => x.id === prunedId)!;
    const ids = (await fixtureWindows('eval-en.safetensors')).ids.slice(0, 64);
    const want = await engine.logits(prunedId, ids);
    const got = await ortLogits(path.join(out, 'onnx/model.onnx'), ids, s);
    const e32 = relMaxErr(got, want);
    const g16 = await ortLogits(path.join(out, 'onnx/model_fp16.onnx'), ids, s);
    const e16 = relMaxErr(g16, want);
    console.log(`ONNX vs PolyPrune logits, max abs error / max |logit|: fp32 ${e32.toExponential(2)}, fp16 weights ${e16.toExponential(2)}`);
    expect(e32).toBeLessThan(1e-4);
    expect(e16).toBeLessThan(5e-3);
    // Dense and pruned differ, so the comparison above sees the pruned weights.
    expect(relMaxErr(await engine.logits(baseId, ids), want)).toBeGreaterThan(1e-2);

    // Every pruned matrix's zeros are in the ONNX initializer (stored transposed).
    const m = onnx.ModelProto.decode(readFileSync(path.join(out, 'onnx/model.onnx')));
    const rec = JSON.parse(readFileSync(path.join(out, 'pruning.json'), 'utf8'));
    let checked = 0;
    for (const pm of rec.per_matrix as { tensor: string; zeros: number; shape: [number, number] }[]) {
      const t = m.graph!.initializer!.find((x) => x.name === `${pm.tensor}.T`)!;
      expect(t.dims!.map(Number)).toEqual([pm.shape[1], pm.shape[0]]);
      const raw = t.rawData!;
      const v = new Float32Array(Uint8Array.from(raw).buffer);
      expect(v.filter((x) => x === 0).length).toBe(pm.zeros);
      checked++;
    }
    expect(checked).toBe(35);
  });

  it('incremental decoding with past_key_values matches the full forward', async () => {
    const s = (await engine.listModels()).find((x) => x.id === prunedId)!;
    const ids = (await fixtureWindows('eval-en.safetensors')).ids.slice(0, 12);
    const want = await engine.logits(prunedId, ids);
    const session = await ort.InferenceSession.create(path.join(out, 'onnx/model.onnx'));
    const V = s.vocabSize;
    const feeds = emptyPast(s);
    const got = new Float32Array(ids.length * V);
    // 8 tokens at once, then one at a time with the cache.
    let t = 0;
    for (const n of [8, 1, 1, 1, 1]) {
      const r = await session.run({
        ...feeds,
        input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.slice(t, t + n), (x) => BigInt(x)), [1, n]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(t + n).fill(1n), [1, t + n]),
        position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(t + i)), [1, n]),
      });
      got.set(r.logits.data as Float32Array, t * V);
      for (let i = 0; i < s.numLayers; i++) for (const kv of ['key', 'value']) feeds[`past_key_values.${i}.${kv}`] = r[`present.${i}.${kv}`];
      t += n;
    }
    await session.release();
    expect(relMaxErr(got, want)).toBeLessThan(1e-4);
  });

  it('external data files (forced small threshold) load in onnxruntime-node', async () => {
    const ext = path.join(tmp, 'onnx-ext');
    await engine.exportTo(prunedId, await nodeOutputSink(ext), { format: 'onnx', onnxVariants: ['fp32'], externalDataThreshold: 1 });
    expect(existsSync(path.join(ext, 'onnx/model.onnx_data'))).toBe(true);
    const cfg = JSON.parse(readFileSync(path.join(ext, 'config.json'), 'utf8'));
    expect(cfg['transformers.js_config'].use_external_data_format).toEqual({ 'model.onnx': 1 });
    const s = (await engine.listModels()).find((x) => x.id === prunedId)!;
    const ids = (await fixtureWindows('eval-en.safetensors')).ids.slice(0, 32);
    const got = await ortLogits(path.join(ext, 'onnx/model.onnx'), ids, s);
    expect(relMaxErr(got, await engine.logits(prunedId, ids))).toBeLessThan(1e-4);
  });

  it('weights are read, converted and written in slices: the same files byte for byte, no read and no weight write above the slice', async () => {
    const m = engine.get(prunedId);
    const reads: number[] = [];
    const ckpt: Checkpoint = {
      ...m.checkpoint,
      readRaw: async (n) => {
        const b = await m.checkpoint.readRaw(n);
        reads.push(b.byteLength);
        return b;
      },
      readRawRange: (n, start, length) => {
        reads.push(length);
        return m.checkpoint.readRawRange!(n, start, length);
      },
    };
    const run = async (sliceBytes: number, externalDataThreshold?: number) => {
      const sink = memorySink();
      const dataWrites: number[] = [];
      let file = '';
      const [begin, write] = [sink.beginFile.bind(sink), sink.write.bind(sink)];
      sink.beginFile = (name, size) => ((file = name), begin(name, size));
      sink.write = (chunk) => (file.endsWith('.onnx_data') && chunk.some((b) => b !== 0) && dataWrites.push(chunk.byteLength), write(chunk));
      await exportOnnx({ source: m.folder, cfg: m.cfg, checkpoint: ckpt, record: null, sink, variants: ['fp32', 'fp16'], externalDataThreshold, sliceBytes });
      return { files: sink.files, dataWrites };
    };
    const slice = 1000;
    for (const threshold of [undefined, 1]) {
      const whole = await run(2 ** 30, threshold);
      reads.length = 0;
      const sliced = await run(slice, threshold);
      expect([...sliced.files.keys()].sort()).toEqual([...whole.files.keys()].sort());
      for (const [name, bytes] of whole.files) expect(Buffer.from(sliced.files.get(name)!).equals(Buffer.from(bytes)), name).toBe(true);
      // the 512 x 64 embedding alone is 128 KiB: read in slices, never whole
      expect(Math.max(...reads)).toBeLessThanOrEqual(slice);
      expect(reads.length).toBeGreaterThan(2 * 131);
      if (threshold) {
        expect(sliced.files.has('onnx/model.onnx_data')).toBe(true);
        expect(Math.max(...sliced.dataWrites)).toBeLessThanOrEqual(slice);
        expect(Math.max(...whole.dataWrites)).toBeGreaterThan(slice);
      }
    }
  });

  it('a non-finite weight is refused with its tensor and element, and nothing is left', async () => {
    const m = engine.get(prunedId);
    const name = 'model.layers.1.mlp.gate_proj.weight';
    const ckpt: Checkpoint = {
      ...m.checkpoint,
      readRawRange: async (n, start, length) => {
        const b = await m.checkpoint.readRawRange!(n, start, length);
        // element 1000 of gate_proj (f32) is NaN
        if (n === name && start <= 4000 && start + length > 4000) new DataView(b.buffer, b.byteOffset).setFloat32(4000 - start, NaN, true);
        return b;
      },
    };
    const sink = memorySink();
    await expect(exportOnnx({ source: m.folder, cfg: m.cfg, checkpoint: ckpt, record: null, sink, variants: ['fp32'], sliceBytes: 1000 })).rejects.toMatchObject({ code: 'CHECKPOINT_MISMATCH', message: `Tensor '${name}' has a non-finite value at element 1000; refusing to export it.` });
    expect(sink.files.size).toBe(0);
  });
});

describe('transformers.js', () => {
  it('AutoModelForCausalLM + AutoTokenizer load the exported folder (no network): same logits and greedy continuation as PolyPrune', async () => {
    const { AutoModelForCausalLM, AutoTokenizer } = await offlineTransformers(tmp);
    const tokenizer = await AutoTokenizer.from_pretrained('onnx-out');
    const model = await AutoModelForCausalLM.from_pretrained('onnx-out', { dtype: 'fp32', device: 'cpu' });
    const prompt = 'Debian is a free operating system';
    const ids = await engine.tokenize(prunedId, prompt);
    const enc = tokenizer(prompt, { add_special_tokens: false });
    expect(Array.from(enc.input_ids.data as BigInt64Array, Number)).toEqual(Array.from(ids));

    const out = await model(enc);
    const want = await engine.logits(prunedId, ids);
    const err = relMaxErr(out.logits.data as Float32Array, want);
    console.log(`transformers.js vs PolyPrune logits: ${err.toExponential(2)} of max |logit|`);
    expect(err).toBeLessThan(1e-4);

    const steps = 6;
    const gen = (await model.generate({ ...enc, max_new_tokens: steps, do_sample: false })) as { tolist(): bigint[][] };
    const tjs = gen.tolist()[0].map(Number).slice(ids.length);
    const ours = await engineGreedy(engine, prunedId, ids, steps);
    console.log(`greedy continuation: PolyPrune ${JSON.stringify(ours)} transformers.js ${JSON.stringify(tjs)} ("${tokenizer.decode(ours)}")`);
    expect(tjs).toEqual(ours);
    await model.dispose();

    // dtype 'fp16' picks onnx/model_fp16.onnx (fp16 weights, fp32 compute).
    const m16 = await AutoModelForCausalLM.from_pretrained('onnx-out', { dtype: 'fp16', device: 'cpu' });
    const e16 = relMaxErr((await m16(enc)).logits.data as Float32Array, want);
    console.log(`transformers.js fp16 weights vs PolyPrune logits: ${e16.toExponential(2)} of max |logit|`);
    expect(e16).toBeLessThan(5e-3);
    await m16.dispose();
  });
});

describe('provenance survives a round trip', () => {
  it('a PolyPrune HF export loaded back from a folder, dropped files, a zip and a URL is recognised as pruned', async () => {
    const { startStaticServer } = await import('../helpers/httpServer');
    const { unzipSync } = await import('fflate');
    const hf = path.join(tmp, 'hf-out');
    await engine.exportTo(prunedId, await nodeOutputSink(hf), { format: 'hf' });
    const want = { method: 'wanda', structure: 'unstructured', sparsityRatio: 0.5, overallSparsity: 0.5, baseModel: "local folder 'stories260K'", nsamples: 16, seqlen: 64 };
    expect((await engine.listModels()).find((x) => x.id === prunedId)!.pruning).toMatchObject(want);

    const fromDir = await engine.loadModel({ kind: 'folder', folder: dirFolder(hf) });
    expect(fromDir.pruning).toMatchObject(want);
    const files = readdirSync(hf).map((f) => new File([readFileSync(path.join(hf, f))], f));
    const fromFiles = await engine.loadModel({ kind: 'files', files });
    expect(fromFiles.pruning).toMatchObject(want);
    const zip = unzipSync(new Uint8Array(await (await engine.exportZip(prunedId, { format: 'hf' })).arrayBuffer()));
    const fromZip = await engine.loadModel({ kind: 'files', files: Object.entries(zip).map(([n, d]) => new File([d as Uint8Array<ArrayBuffer>], n)) });
    expect(fromZip.pruning).toMatchObject(want);
    const server = await startStaticServer({ '/': tmp });
    try {
      const fromUrl = await engine.loadModel({ kind: 'url', url: `${server.url}/hf-out/` });
      expect(fromUrl.pruning).toMatchObject(want);
    } finally {
      await server.close();
    }
    // An unpruned model has no pruning summary; a re-export keeps pruning.json.
    expect((await engine.listModels()).find((x) => x.id === baseId)!.pruning).toBeUndefined();
    const again = path.join(tmp, 'hf-again');
    await engine.exportTo(fromDir.id, await nodeOutputSink(again), { format: 'hf' });
    expect(readFileSync(path.join(again, 'pruning.json'))).toEqual(readFileSync(path.join(hf, 'pruning.json')));
    for (const m of [fromDir, fromFiles, fromZip]) await engine.unloadModel(m.id);
  });

  it('a malformed pruning.json is reported (CONFIG_INVALID), not ignored', async () => {
    const bad = path.join(tmp, 'hf-bad');
    await engine.exportTo(prunedId, await nodeOutputSink(bad), { format: 'hf' });
    const rec = JSON.parse(readFileSync(path.join(bad, 'pruning.json'), 'utf8'));
    rec.sparsity_ratio = 'half';
    writeFileSync(path.join(bad, 'pruning.json'), JSON.stringify(rec));
    await expect(engine.loadModel({ kind: 'folder', folder: dirFolder(bad) })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(/^pruning\.json in .*hf-bad is not a valid PolyPrune pruning record: field "sparsity_ratio": /),
    });
  });
});

describe('other Llama-family layouts', () => {
  it('qwen2 (q/k/v biases, untied head, GQA 4/2, head_dim 16, linear RoPE scaling) and llama with attention and MLP biases: onnxruntime-node matches PolyPrune', async () => {
    const { mkdirSync, copyFileSync, writeFileSync: write } = await import('node:fs');
    const { safetensorsBytes } = await import('../../src/io/safetensors');
    const { expectedTensors, parseModelConfig } = await import('../../src/io/config');
    const { numel } = await import('../../src/io/dtypes');
    const { randn } = await import('../helpers/gpu');
    const configs = [
      { model_type: 'qwen2', hidden_size: 64, intermediate_size: 96, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16, vocab_size: 512, max_position_embeddings: 128, rms_norm_eps: 1e-6, rope_theta: 1000000, rope_scaling: { type: 'linear', factor: 2 }, tie_word_embeddings: false },
      { model_type: 'llama', hidden_size: 64, intermediate_size: 96, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 4, vocab_size: 512, max_position_embeddings: 128, rms_norm_eps: 1e-5, attention_bias: true, mlp_bias: true, tie_word_embeddings: true },
    ];
    for (const [k, config] of configs.entries()) {
      const dir = path.join(tmp, `family-${k}`);
      mkdirSync(dir);
      write(path.join(dir, 'config.json'), JSON.stringify(config));
      for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(path.join(FIXTURE, f), path.join(dir, f));
      const cfg = parseModelConfig(config, 'test');
      const tensors = expectedTensors(cfg).map((t, i) => ({ name: t.name, dtype: 'F32' as const, shape: t.shape, data: t.name.includes('norm') ? Float32Array.from(randn(numel(t.shape), i + 7, 0.2), (x) => 1 + x) : randn(numel(t.shape), i + 7, 0.15) }));
      write(path.join(dir, 'model.safetensors'), safetensorsBytes(tensors));
      const m = await engine.loadModel({ kind: 'folder', folder: dirFolder(dir) });
      const out = path.join(tmp, `family-${k}-onnx`);
      await engine.exportTo(m.id, await nodeOutputSink(out), { format: 'onnx', onnxVariants: ['fp32'] });
      const ids = Int32Array.from({ length: 40 }, (_, i) => (i * 37 + 5) % 512);
      const want = await engine.logits(m.id, ids);
      const got = await ortLogits(path.join(out, 'onnx/model.onnx'), ids, cfg);
      const err = relMaxErr(got, want);
      console.log(`${config.model_type}${k ? ' with biases, tied' : ''}: ONNX vs PolyPrune ${err.toExponential(2)} of max |logit|`);
      expect(err).toBeLessThan(1e-4);
      expect(existsSync(path.join(out, 'pruning.json'))).toBe(false);
      await engine.unloadModel(m.id);
    }
  });
});
