/**
 * Streamed export: peak memory under a cap for a model larger than the cap, sharding, zip stream,
 * and the failure paths (disk full, no permission, cancel, a model that is not loaded): one-line
 * messages and nothing left that looks complete. No GPU needed: the exporters read the checkpoint.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { unzipSync } from 'fflate';
import { exportHfCheckpoint } from '../../src/export/hf';
import { exportOnnx } from '../../src/export/onnx';
import { nodeOutputSink } from '../../src/export/node';
import { zipSink, memorySink, type ExportSink } from '../../src/export/sink';
import { dirFolder } from '../../src/io/node';
import { openCheckpoint, safetensorsBytes } from '../../src/io/safetensors';
import { loadModelConfig, expectedTensors, parseModelConfig } from '../../src/io/config';
import { numel } from '../../src/io/dtypes';
import { LocalEngine } from '../../src/engine/engine';
import { FIXTURE, requireShared } from '../helpers/fixture';
import { randn } from '../helpers/gpu';

v8.setFlagsFromString('--expose_gc');
const gc = vm.runInNewContext('gc') as () => void;

let tmp: string;
let big: string;
let bigWeightBytes = 0;
let largestTensor = 0;

/** A random llama (8 layers, hidden 512, ffn 1408, vocab 4096, separate head): about 110 MB of f32 weights. */
function writeBigModel(dir: string): void {
  mkdirSync(dir);
  const config = { architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 512, intermediate_size: 1408, num_hidden_layers: 8, num_attention_heads: 8, num_key_value_heads: 4, vocab_size: 4096, max_position_embeddings: 256, rms_norm_eps: 1e-5, tie_word_embeddings: false, bos_token_id: 1, eos_token_id: 2, torch_dtype: 'float32' };
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(path.join(FIXTURE, f), path.join(dir, f));
  const cfg = parseModelConfig(config, 'test config');
  const tensors = expectedTensors(cfg).map((t, i) => {
    largestTensor = Math.max(largestTensor, numel(t.shape) * 4);
    bigWeightBytes += numel(t.shape) * 4;
    return { name: t.name, dtype: 'F32' as const, shape: t.shape, data: randn(numel(t.shape), i + 1, 0.05) };
  });
  writeFileSync(path.join(dir, 'model.safetensors'), safetensorsBytes(tensors));
}

beforeAll(() => {
  requireShared(FIXTURE);
  tmp = mkdtempSync(path.join(tmpdir(), 'polyprune-sink-'));
  big = path.join(tmp, 'big-model');
  writeBigModel(big);
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Live ArrayBuffer bytes after a full GC. */
function liveBytes(): number {
  gc();
  return process.memoryUsage().arrayBuffers;
}

function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.includes('.partial'));
}

async function bigSource() {
  const folder = dirFolder(big);
  return { folder, cfg: await loadModelConfig(folder), checkpoint: await openCheckpoint(folder) };
}

describe('streamed export under a memory cap', () => {
  it('HF (sharded) and ONNX exports of a 110 MB model hold at most ~3 tensors of memory at a time', async () => {
    // The cap: 40 MB, well below the weights (110 MB); the largest tensor is 8 MB.
    const cap = 40 * 2 ** 20;
    expect(bigWeightBytes).toBeGreaterThan(2.5 * cap);
    for (const format of ['hf', 'onnx'] as const) {
      const { folder, cfg, checkpoint } = await bigSource();
      const base = liveBytes();
      let peak = 0;
      const out = path.join(tmp, `big-${format}`);
      const sink = await nodeOutputSink(out, { afterWrite: () => void (peak = Math.max(peak, liveBytes() - base)) });
      if (format === 'hf') await exportHfCheckpoint({ source: folder, checkpoint, sink, maxShardBytes: 30_000_000 });
      else await exportOnnx({ source: folder, cfg, checkpoint, sink, variants: ['fp32'] });
      await checkpoint.close();
      console.log(`${format} export of ${(bigWeightBytes / 2 ** 20).toFixed(1)} MiB of weights: peak live ArrayBuffer memory ${(peak / 2 ** 20).toFixed(1)} MiB (cap ${(cap / 2 ** 20).toFixed(0)} MiB, largest tensor ${(largestTensor / 2 ** 20).toFixed(1)} MiB)`);
      expect(peak).toBeLessThan(cap);
      expect(peak).toBeLessThan(4 * largestTensor);
    }
    // The sharded folder is what the Hub writes, and it loads back tensor for tensor.
    const hf = path.join(tmp, 'big-hf');
    const shards = readdirSync(hf).filter((f) => f.endsWith('.safetensors')).sort();
    expect(shards.length).toBeGreaterThan(2);
    expect(shards[0]).toBe(`model-00001-of-${String(shards.length).padStart(5, '0')}.safetensors`);
    const index = JSON.parse(readFileSync(path.join(hf, 'model.safetensors.index.json'), 'utf8'));
    expect(Object.keys(index.weight_map)).toHaveLength(8 * 9 + 3);
    expect(index.metadata.total_size).toBe(bigWeightBytes);
    const a = await openCheckpoint(dirFolder(hf));
    const b = await openCheckpoint(dirFolder(big));
    for (const n of b.names()) expect(Buffer.from(await a.readRaw(n)).equals(Buffer.from(await b.readRaw(n))), n).toBe(true);
    await a.close();
    await b.close();
    expect(leftovers(tmp)).toEqual([]);
  });
});

describe('zip stream', () => {
  it('gives the same files as the folder export; abort tells the consumer to drop what it got', async () => {
    const folder = dirFolder(FIXTURE);
    const checkpoint = await openCheckpoint(folder);
    const parts: Uint8Array[] = [];
    let finals = 0;
    const sink = zipSink({ onData: (c, final) => void (parts.push(c), (finals += final ? 1 : 0)) });
    await exportHfCheckpoint({ source: folder, checkpoint, sink });
    expect(finals).toBe(1);
    const zip = unzipSync(Buffer.concat(parts));
    const mem = memorySink();
    await exportHfCheckpoint({ source: folder, checkpoint, sink: mem });
    expect(Object.keys(zip).sort()).toEqual([...mem.files.keys()].sort());
    for (const [k, v] of mem.files) expect(Buffer.from(zip[k]).equals(Buffer.from(v)), k).toBe(true);

    let aborted = false;
    const ac = new AbortController();
    const z2 = zipSink({ onData: () => (parts.length > 0 && ac.abort(), undefined), onAbort: () => void (aborted = true) });
    await expect(exportHfCheckpoint({ source: folder, checkpoint, sink: z2, signal: ac.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(aborted).toBe(true);
    await checkpoint.close();
  });
});

describe('zip stream', () => {
  it('is reproducible: the same export twice gives the same zip bytes, every entry dated 1980-02-01 00:00', async () => {
    const folder = dirFolder(FIXTURE);
    const zips: Buffer[] = [];
    for (let i = 0; i < 2; i++) {
      const checkpoint = await openCheckpoint(folder);
      const parts: Uint8Array[] = [];
      await exportHfCheckpoint({ source: folder, checkpoint, sink: zipSink({ onData: (c) => void parts.push(c) }) });
      await checkpoint.close();
      zips.push(Buffer.concat(parts));
      // Across a second boundary, so a wall-clock timestamp would differ.
      if (i === 0) await new Promise((r) => setTimeout(r, 2100));
    }
    expect(zips[0].length).toBeGreaterThan(0);
    expect(zips[0].equals(zips[1])).toBe(true);
    // Every central-directory record (PK\x01\x02): DOS time at offset 12, date at 14.
    let records = 0;
    for (let at = zips[0].indexOf('PK\x01\x02', 0, 'latin1'); at >= 0; at = zips[0].indexOf('PK\x01\x02', at + 4, 'latin1')) {
      records++;
      expect(zips[0].readUInt16LE(at + 12)).toBe(0);
      expect(zips[0].readUInt16LE(at + 14)).toBe(((1980 - 1980) << 9) | (2 << 5) | 1);
    }
    expect(records).toBe(Object.keys(unzipSync(zips[0])).length);
  });
});

describe('export failures leave nothing that looks complete', () => {
  const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

  it('disk full halfway (simulated ENOSPC after 1 MB of weights): OUTPUT_FAILED, partial folder removed', async () => {
    for (const format of ['hf', 'onnx'] as const) {
      const { folder, cfg, checkpoint } = await bigSource();
      const out = path.join(tmp, `full-${format}`);
      const sink = await nodeOutputSink(out, {
        afterWrite: (file, written) => {
          if (/\.(safetensors|onnx)$/.test(file) && written > 2 ** 20) throw enospc();
        },
      });
      const run = format === 'hf' ? exportHfCheckpoint({ source: folder, checkpoint, sink }) : exportOnnx({ source: folder, cfg, checkpoint, sink });
      const err = (await run.then(() => null, (e: unknown) => e)) as Error & { code: string };
      await checkpoint.close();
      expect(err).toMatchObject({ code: 'OUTPUT_FAILED' });
      expect(err.message).toMatch(/^Cannot write '(model\.safetensors|onnx\/model\.onnx)' in '.*': no space left on the device \(free some space or choose another disk\)\. Nothing was kept\.$/);
      expect(err.message).not.toContain('\n');
      expect(existsSync(out)).toBe(false);
      expect(leftovers(tmp)).toEqual([]);
    }
  });

  it('a folder without write permission: OUTPUT_FAILED before any work', async () => {
    // /sys refuses new entries for every user, root included (a chmod'ed folder does not stop root).
    const err = (await nodeOutputSink('/sys/polyprune-test/out').then(() => null, (e: unknown) => e)) as Error & { code: string };
    expect(err).toMatchObject({ code: 'OUTPUT_FAILED' });
    expect(err.message).toMatch(/^Cannot write into '\/sys\/polyprune-test': permission denied \(choose a folder you can write to\)\. Nothing was kept\.$/);
  });

  it('cancel during the export (after the first weights): CANCELLED, nothing at the destination', async () => {
    for (const format of ['hf', 'onnx'] as const) {
      const { folder, cfg, checkpoint } = await bigSource();
      const out = path.join(tmp, `cancel-${format}`);
      const ac = new AbortController();
      let tensorsWritten = 0;
      const sink = await nodeOutputSink(out, { afterWrite: (f) => void (/\.(safetensors|onnx)$/.test(f) && ++tensorsWritten === 5 && ac.abort()) });
      const run = format === 'hf' ? exportHfCheckpoint({ source: folder, checkpoint, sink, signal: ac.signal }) : exportOnnx({ source: folder, cfg, checkpoint, sink, signal: ac.signal });
      await expect(run).rejects.toMatchObject({ code: 'CANCELLED', message: 'Cancelled by the user; nothing was written.' });
      await checkpoint.close();
      expect(existsSync(out)).toBe(false);
      expect(leftovers(tmp)).toEqual([]);
    }
  });

  it('export of a model that is not loaded: BAD_ARGUMENT naming the loaded ones; the sink is aborted', async () => {
    const engine = new LocalEngine({ gpu: async () => undefined });
    const out = path.join(tmp, 'not-loaded');
    const sink: ExportSink = await nodeOutputSink(out);
    await expect(engine.exportTo('m7', sink, { format: 'onnx' })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: "No loaded model 'm7'. Loaded: none." });
    expect(existsSync(out)).toBe(false);
    expect(leftovers(tmp)).toEqual([]);
    await expect(engine.exportZip('m7', { format: 'hf' })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });
});
