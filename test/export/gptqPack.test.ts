/**
 * The GPTQ v1 packing (src/export/gptq.ts `packGptqV1`) for 2, 3, 4 and 8 bits on random codes, with
 * act-order-like g_idx and zero points of 0 and of maxq (the v1 "zero minus one" borrows across the
 * packed word there), read back by tools/gptq-export-check/check_gptq.py (numpy, as GPTQModel
 * unpacks) against the f32 dequantized weights, and here bit by bit (3 bits: 32 values in 3 words,
 * values 10 and 21 straddling two). No GPU; needs python3 with numpy (fails without).
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gptqQuantizationConfig, gptqTensorMetas, packGptqV1 } from '../../src/export/gptq';
import { serializeSafetensors } from '../../src/io/safetensors';
import type { GptqResult } from '../../src/prune/gptq';
import { mulberry32 } from '../helpers/random';

const CHECK = path.resolve('tools/gptq-export-check/check_gptq.py');

describe('GPTQ v1 packing', () => {
  it.each([2, 3, 4, 8])('%i-bit: numpy unpacking as GPTQModel gives back every code, zero (0 and maxq included) and g_idx', (bits) => {
    const py = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
    if (py.status !== 0) throw new Error(`needs python3 with numpy (apt install python3-numpy): ${py.error?.message ?? py.stderr.trim()}`);
    const [N, K, gs] = [64, 96, 32];
    const G = K / gs;
    const maxq = 2 ** bits - 1;
    const r = mulberry32(bits);
    const perm = Array.from({ length: K }, (_, i) => i).sort(() => r() - 0.5);
    const gIdx = new Int32Array(K);
    perm.forEach((col, pos) => (gIdx[col] = Math.floor(pos / gs))); // act-order: groups in quantization order
    const res: GptqResult = { bits, groupSize: gs, codes: new Uint8Array(N * K), scales: new Float32Array(N * G), zeros: new Float32Array(N * G), gIdx };
    for (let i = 0; i < N * K; i++) res.codes[i] = Math.floor(r() * (maxq + 1));
    for (let i = 0; i < N * G; i++) {
      res.scales[i] = Math.fround(0.001 + r() * 0.05);
      res.zeros[i] = i % 7 === 0 ? 0 : i % 11 === 0 ? maxq : Math.floor(r() * (maxq + 1));
    }
    const W = new Float32Array(N * K);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) W[n * K + k] = Math.fround(res.scales[n * G + gIdx[k]] * (res.codes[n * K + k] - res.zeros[n * G + gIdx[k]]));
    const q = { bits, groupSize: gs, actOrder: true, staticGroups: false };
    const p = packGptqV1(res, N, K, q);
    // bit by bit: field j of a stream of little-endian words, (bits wide, possibly over two words)
    const field = (words: Uint32Array, at: (w: number) => number, j: number): number => {
      const bit = j * bits;
      const lo = words[at(bit >>> 5)] >>> (bit & 31);
      const hi = (bit & 31) + bits > 32 ? words[at((bit >>> 5) + 1)] << (32 - (bit & 31)) : 0;
      return (lo | hi) & maxq;
    };
    const qw = new Uint32Array(p.qweight.buffer, p.qweight.byteOffset, p.qweight.byteLength / 4);
    const qz = new Uint32Array(p.qzeros.buffer, p.qzeros.byteOffset, p.qzeros.byteLength / 4);
    expect(qw.length).toBe((K * bits) / 32 * N);
    expect(qz.length).toBe((G * N * bits) / 32);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) expect(field(qw, (w) => w * N + n, k)).toBe(res.codes[n * K + k]);
    // v1 zeros: 3 bits per field minus one modulo 8; 2, 4, 8 bits the packed word minus 0x55.., 0x11.., 0x0101..
    const v1 = bits === 3 ? null : { 2: 0x55555555, 4: 0x11111111, 8: 0x01010101 }[bits]!;
    const qzv2 = v1 === null ? qz : qz.map((w) => (w + v1) >>> 0);
    for (let g = 0; g < G; g++) for (let n = 0; n < N; n++) expect((field(qzv2, (w) => g * ((N * bits) / 32) + w, n) + (v1 === null ? 1 : 0)) & maxq).toBe(res.zeros[n * G + g]);
    const name = 'model.layers.0.mlp.up_proj';
    const metas = gptqTensorMetas(`${name}.weight`, N, K, q);
    const data = [p.qweight, p.qzeros, p.scales, p.gIdx];
    const norm = new Float32Array(K).map((_, i) => i / K);
    const tmp = mkdtempSync(path.join(tmpdir(), 'polyprune-gptqpack-'));
    try {
      const gdir = path.join(tmp, 'gptq');
      const ddir = path.join(tmp, 'hf');
      mkdirSync(gdir);
      mkdirSync(ddir);
      const asView = (b: Uint8Array, dtype: string) => (dtype === 'F16' ? new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2) : new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4));
      writeFileSync(path.join(gdir, 'model.safetensors'), Buffer.concat(serializeSafetensors([...metas.map((m, i) => ({ ...m, data: asView(data[i], m.dtype) })), { name: 'model.norm.weight', dtype: 'F32', shape: [K], data: norm }])));
      writeFileSync(path.join(ddir, 'model.safetensors'), Buffer.concat(serializeSafetensors([{ name: `${name}.weight`, dtype: 'F32', shape: [N, K], data: W }, { name: 'model.norm.weight', dtype: 'F32', shape: [K], data: norm }])));
      writeFileSync(path.join(gdir, 'config.json'), JSON.stringify({ model_type: 'llama', quantization_config: gptqQuantizationConfig(q, 'test') }));
      const out = spawnSync('python3', [CHECK, gdir, ddir], { encoding: 'utf8' });
      expect(out.status, out.stdout + out.stderr).toBe(0);
      const j = JSON.parse(out.stdout.trim());
      expect(j).toMatchObject({ ok: true, bits, quantized_linears: 1, other_tensors: 1 });
      expect(j.zero_points_equal_to_0).toBeGreaterThan(0);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
