/**
 * The hf-gptq export (GPTQ v1 checkpoint format, docs/export.md "Quantized exports") of the bundled
 * model's first two decoder layers (a folder made here: stories260K's 172-wide MLP cannot be packed), GPTQ 4-bit group 128 with act-order (g_idx not in column order; the last group of the 704-wide
 * down_proj is shorter) and 3-bit group 32 (32 codes in three int32 words), on
 * French windows made here: tools/gptq-export-check/check_gptq.py unpacks qweight/qzeros/scales/g_idx
 * as GPTQModel does and compares with the engine's dequantized weights (the same model exported as
 * hf). torch/transformers cannot be installed here; python3 with numpy is required and its absence
 * fails the test.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { openSafetensors, serializeSafetensors } from '../../src/io/safetensors';
import { pathSource } from '../../src/io/node';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LocalEngine } from '../../src/engine/local';
import { nodeOutputSink } from '../../src/export/node';
import { fixtureEngine } from '../helpers/engine';
import { engineRowSizer } from '../../src/experiment/size';

const BUNDLED = path.resolve('public/models/polyprune-ml');
const FRENCH = readFileSync(path.join(BUNDLED, 'calib/fr.txt'), 'utf8');
const CHECK = path.resolve('tools/gptq-export-check/check_gptq.py');
let engine: LocalEngine;
let baseId: string;
let tmp: string;

beforeAll(async () => {
  const py = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (py.status !== 0) throw new Error(`test/export/gptqHf.test.ts needs python3 with numpy (apt install python3-numpy): ${py.error?.message ?? py.stderr.trim()}`);
  tmp = mkdtempSync(path.join(tmpdir(), 'polyprune-gptqhf-'));
  // the bundled model cut to its first two decoder layers (dims 256 / 704 / kv 128: all multiples of 32)
  const small = path.join(tmp, 'polyprune-ml-2l');
  mkdirSync(small);
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(path.join(BUNDLED, f), path.join(small, f));
  writeFileSync(path.join(small, 'config.json'), JSON.stringify({ ...JSON.parse(readFileSync(path.join(BUNDLED, 'config.json'), 'utf8')), num_hidden_layers: 2 }));
  const st = await openSafetensors(pathSource(path.join(BUNDLED, 'model.safetensors')));
  const keep = [...st.tensors.keys()].filter((n) => !/^model\.layers\.([2-9]|\d\d)\./.test(n));
  const tensors = await Promise.all(keep.map(async (name) => ({ name, dtype: 'F32' as const, shape: st.tensors.get(name)!.shape, data: await st.readF32(name) })));
  writeFileSync(path.join(small, 'model.safetensors'), Buffer.concat(serializeSafetensors(tensors)));
  const f = await fixtureEngine({}, small);
  engine = f.engine;
  baseId = f.base.id;
});
afterAll(async () => {
  await engine?.dispose();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('hf-gptq export', () => {
  it.each([
    { bits: 4, groupSize: 128, actOrder: true, staticGroups: false },
    { bits: 3, groupSize: 32, actOrder: false, staticGroups: false },
  ])('$bits-bit group $groupSize act-order $actOrder: numpy unpacking as GPTQModel equals the engine weights', async (quantize) => {
    const r = await engine.prune(baseId, { method: 'gptq', quantize, calibration: { texts: [{ name: 'fr.txt', text: FRENCH, language: 'fr' }], nsamples: 4, seqlen: 64, seed: 0 } });
    const tag = `${quantize.bits}-${quantize.groupSize}`;
    const gdir = path.join(tmp, `gptq-${tag}`);
    const ddir = path.join(tmp, `hf-${tag}`);
    await engine.exportTo(r.model.id, await nodeOutputSink(gdir), { format: 'hf-gptq' });
    await engine.exportTo(r.model.id, await nodeOutputSink(ddir), { format: 'hf' });
    const cfg = JSON.parse(readFileSync(path.join(gdir, 'config.json'), 'utf8'));
    expect(cfg.quantization_config).toMatchObject({ quant_method: 'gptq', bits: quantize.bits, group_size: quantize.groupSize, desc_act: quantize.actOrder, sym: false, checkpoint_format: 'gptq' });
    const rec = JSON.parse(readFileSync(path.join(gdir, 'pruning.json'), 'utf8'));
    expect(rec.quantization.weights).toBe('gptq-v1');
    expect(rec.quantization.export_bytes['hf-gptq']).toBe(statSync(path.join(gdir, 'model.safetensors')).size);
    expect(rec.quantization.export_bytes.hf).toBe(statSync(path.join(ddir, 'model.safetensors')).size);
    // the grid's size column (engineRowSizer: Engine.exportSizes of the base model with the row's quantizer, before
    // any row is made) is the bytes these exports wrote: a dense or pruned row the hf file, this row the hf-gptq file
    const sizeOf = engineRowSizer(engine, baseId);
    expect(await sizeOf(null)).toEqual({ bytes: statSync(path.join(ddir, 'model.safetensors')).size, format: 'safetensors' });
    expect(await sizeOf(quantize)).toEqual({ bytes: statSync(path.join(gdir, 'model.safetensors')).size, format: 'gptq' });
    const py = spawnSync('python3', [CHECK, gdir, ddir], { encoding: 'utf8' });
    expect(py.status, py.stdout + py.stderr).toBe(0);
    const res = JSON.parse(py.stdout.trim().split('\n').pop()!);
    console.log(`check_gptq ${tag}: ${JSON.stringify(res)}; sizes ${JSON.stringify(rec.quantization.export_bytes)}`);
    expect(res).toMatchObject({ ok: true, bits: quantize.bits, quantized_linears: 14 });
    expect(res.max_rel_err_fp16_dequant).toBeLessThan(2e-3);
    await engine.unloadModel(r.model.id);
  });
});
