import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolyPruneError } from '../../src/common/errors';
import { bytesToF32, f16BitsToNumber } from '../../src/io/dtypes';
import { pathSource } from '../../src/io/node';
import {
  openSafetensors,
  safetensorsBytes,
  serializeSafetensors,
  type SafetensorsFile,
  type TensorToWrite,
} from '../../src/io/safetensors';
import { blobSource, concatBytes } from '../../src/io/source';
import { sharedPath, STORIES_DIR_REL, tempDir } from '../helpers/shared';

const STORIES = sharedPath(STORIES_DIR_REL);
const MODEL = join(STORIES, 'model.safetensors');

/** A safetensors file from a header (object or raw string) and `dataBytes` bytes of data. */
function craft(header: unknown, dataBytes: number, headerLengthOverride?: number): Uint8Array<ArrayBuffer> {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setUint32(0, headerLengthOverride ?? json.length, true);
  out.set(json, 8);
  for (let i = 0; i < dataBytes; i++) out[8 + json.length + i] = i & 0xff;
  return out;
}

let tmp: { dir: string; remove: () => Promise<void> };
beforeAll(async () => {
  tmp = await tempDir('polyprune-st-');
});
afterAll(async () => {
  await tmp.remove();
});

/** Writes `bytes` to a real file and opens it; returns the thrown PolyPruneError. */
async function openError(fileName: string, bytes: Uint8Array): Promise<PolyPruneError> {
  const p = join(tmp.dir, fileName);
  await writeFile(p, bytes);
  const src = pathSource(p);
  try {
    await openSafetensors(src);
  } catch (e) {
    expect(e).toBeInstanceOf(PolyPruneError);
    return e as PolyPruneError;
  } finally {
    await src.close?.();
  }
  throw new Error(`openSafetensors(${fileName}) did not throw`);
}

describe('openSafetensors on the stories260K fixture', () => {
  it('parses the header: 47 F32 tensors with absolute offsets, metadata', async () => {
    const src = pathSource(MODEL);
    const f = await openSafetensors(src);
    try {
      expect(f.tensors.size).toBe(47);
      expect([...f.tensors.values()].every((t) => t.dtype === 'F32')).toBe(true);
      expect(f.metadata.format).toBe('pt');
      const emb = f.tensors.get('model.embed_tokens.weight');
      expect(emb?.shape).toEqual([512, 64]);
      expect(emb?.byteOffset).toBe(8 + f.headerLength);
      expect(emb?.byteLength).toBe(512 * 64 * 4);
      expect(f.tensors.has('lm_head.weight')).toBe(false);
      expect(f.dataOffset % 8).toBe(0);
      // Independent check against the raw file bytes.
      const bytes = readFileSync(MODEL);
      const headerLen = Number(bytes.readBigUInt64LE(0));
      expect(f.headerLength).toBe(headerLen);
      const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString('utf8')) as Record<
        string,
        { data_offsets: [number, number] }
      >;
      const norm = header['model.norm.weight'];
      const expected = new Float32Array(64);
      for (let i = 0; i < 64; i++) expected[i] = bytes.readFloatLE(8 + headerLen + norm.data_offsets[0] + 4 * i);
      const got = await f.readF32('model.norm.weight');
      expect(Array.from(got)).toEqual(Array.from(expected));
      expect(got.some((v) => v !== 0)).toBe(true);
    } finally {
      await f.close();
    }
  });

  it('readI32 reads the eval token windows', async () => {
    const f = await openSafetensors(pathSource(join(STORIES, 'eval-en.safetensors')));
    try {
      const info = f.tensors.get('input_ids');
      expect(info?.dtype).toBe('I32');
      expect(info?.shape).toEqual([4, 64]);
      const ids = await f.readI32('input_ids');
      expect(ids.length).toBe(256);
      expect(Math.min(...ids)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...ids)).toBeLessThan(512);
      const bytes = readFileSync(join(STORIES, 'eval-en.safetensors'));
      expect(ids[5]).toBe(bytes.readInt32LE(8 + f.headerLength + 20));
      await expect(f.readF32('input_ids')).resolves.toHaveLength(256);
    } finally {
      await f.close();
    }
  });

  it('a missing tensor names the closest ones', async () => {
    const f = await openSafetensors(pathSource(MODEL));
    try {
      const err = await f.readRaw('model.layers.0.self_attn.q_proj.weigth').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PolyPruneError);
      expect((err as PolyPruneError).code).toBe('CHECKPOINT_MISMATCH');
      expect((err as PolyPruneError).message).toContain("'model.layers.0.self_attn.q_proj.weight'");
    } finally {
      await f.close();
    }
  });
});

describe('openSafetensors rejects malformed files (SAFETENSORS_FORMAT)', () => {
  it('file shorter than 8 bytes', async () => {
    const e = await openError('tiny.safetensors', new Uint8Array([1, 2, 3, 4, 5]));
    expect(e.code).toBe('SAFETENSORS_FORMAT');
    expect(e.message).toMatch(/tiny\.safetensors.*5 bytes.*8-byte/);
  });

  it('header length past the end of the file', async () => {
    const e = await openError('hlen.safetensors', craft({}, 0, 1000));
    expect(e.code).toBe('SAFETENSORS_FORMAT');
    expect(e.message).toContain('hlen.safetensors');
    expect(e.message).toContain('header length (bytes 0-7) is 1000');
    expect(e.message).toContain('past the end of the 10-byte file');
  });

  it('absurd header length (above 100 MB)', async () => {
    const bytes = craft({}, 0);
    new DataView(bytes.buffer).setUint32(4, 7, true); // high word: 7 * 2^32
    const e = await openError('huge.safetensors', bytes);
    expect(e.code).toBe('SAFETENSORS_FORMAT');
    expect(e.message).toContain('100000000-byte limit');
  });

  it('header that is not JSON', async () => {
    const e = await openError('notjson.safetensors', craft('{"a": [1, 2', 0));
    expect(e.code).toBe('SAFETENSORS_FORMAT');
    expect(e.message).toMatch(/notjson\.safetensors: header \(bytes 8-19\) is not valid JSON/);
  });

  it('header that is not UTF-8', async () => {
    const bytes = craft('{"\u00e9":1}', 0);
    bytes[10] = 0xff;
    const e = await openError('utf8.safetensors', bytes);
    expect(e.message).toContain('not valid UTF-8');
  });

  it('header that is not an object', async () => {
    const e = await openError('array.safetensors', craft('[1, 2, 3]', 0));
    expect(e.code).toBe('SAFETENSORS_FORMAT');
    expect(e.message).toContain('header must be a JSON object, got [1,2,3]');
  });

  it('unknown dtype', async () => {
    const e = await openError('dtype.safetensors', craft({ w: { dtype: 'F17', shape: [2], data_offsets: [0, 8] } }, 8));
    expect(e.code).toBe('SAFETENSORS_FORMAT');
    expect(e.message).toContain("tensor 'w': unknown dtype \"F17\"");
    expect(e.message).toContain('BF16');
  });

  it('shape not an array of non-negative integers', async () => {
    for (const shape of [[2, -1], [2.5], 'abc', [null]]) {
      const e = await openError('shape.safetensors', craft({ w: { dtype: 'F32', shape, data_offsets: [0, 8] } }, 8));
      expect(e.code).toBe('SAFETENSORS_FORMAT');
      expect(e.message).toContain("tensor 'w': shape must be an array of non-negative integers");
    }
  });

  it('data_offsets that are not [begin, end]', async () => {
    for (const data_offsets of [[0], [0, 4, 8], [-4, 4], ['0', '8'], [8, 0]]) {
      const e = await openError('offs.safetensors', craft({ w: { dtype: 'F32', shape: [2], data_offsets } }, 8));
      expect(e.code).toBe('SAFETENSORS_FORMAT');
      expect(e.message).toContain("tensor 'w'");
      expect(e.message).toMatch(/data_offsets/);
    }
  });

  it('data_offsets whose length disagrees with dtype and shape', async () => {
    const e = await openError('len.safetensors', craft({ w: { dtype: 'F16', shape: [3, 2], data_offsets: [0, 8] } }, 8));
    expect(e.message).toContain("tensor 'w': data_offsets [0, 8] span 8 bytes, but F16 [3,2] needs 6 x 2 = 12 bytes");
  });

  it('truncated file: offsets outside the data region', async () => {
    const full = readFileSync(MODEL);
    const cut = full.subarray(0, full.length - 100);
    const e = await openError('truncated.safetensors', new Uint8Array(cut));
    expect(e.code).toBe('SAFETENSORS_FORMAT');
    // The tensor stored last (by offset) is the one cut off.
    const headerLen = Number(full.readBigUInt64LE(0));
    const header = JSON.parse(full.subarray(8, 8 + headerLen).toString('utf8')) as Record<string, { data_offsets?: number[] }>;
    const [lastName, last] = Object.entries(header)
      .filter(([k]) => k !== '__metadata__')
      .sort((a, b) => (b[1].data_offsets?.[1] ?? 0) - (a[1].data_offsets?.[1] ?? 0))[0];
    expect(e.message).toContain(`tensor '${lastName}'`);
    expect(e.message).toContain(`[${last.data_offsets?.join(', ')}]`);
    expect(e.message).toContain(`${full.length - 100 - 8 - headerLen} bytes`);
    expect(e.message).toContain(`at least ${full.length} bytes`);
  });

  it('overlapping tensors', async () => {
    const e = await openError(
      'overlap.safetensors',
      craft(
        {
          a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
          b: { dtype: 'F32', shape: [4], data_offsets: [8, 24] },
        },
        24,
      ),
    );
    expect(e.code).toBe('SAFETENSORS_FORMAT');
    expect(e.message).toContain("tensors 'a' data_offsets [0, 16] and 'b' [8, 24] overlap");
  });

  it('gaps and trailing bytes', async () => {
    const gap = await openError(
      'gap.safetensors',
      craft({ a: { dtype: 'U8', shape: [4], data_offsets: [0, 4] }, b: { dtype: 'U8', shape: [4], data_offsets: [8, 12] } }, 12),
    );
    expect(gap.message).toContain("4 unused bytes before tensor 'b'");
    const trailing = await openError('trail.safetensors', craft({ a: { dtype: 'U8', shape: [4], data_offsets: [0, 4] } }, 10));
    expect(trailing.message).toContain('6 trailing bytes');
  });

  it('__metadata__ with a non-string value', async () => {
    const e = await openError(
      'meta.safetensors',
      craft({ __metadata__: { format: 'pt', step: 3 }, a: { dtype: 'U8', shape: [2], data_offsets: [0, 2] } }, 2),
    );
    expect(e.code).toBe('SAFETENSORS_FORMAT');
    expect(e.message).toContain("__metadata__['step'] must be a string, got 3");
  });

  it('accepts an empty file with only a header, and zero-size tensors', async () => {
    const f = await openSafetensors(
      blobSource(new Blob([craft({ z: { dtype: 'F32', shape: [0, 3], data_offsets: [0, 0] } }, 0)]), 'z.safetensors'),
    );
    expect(f.tensors.get('z')?.byteLength).toBe(0);
    expect(await f.readF32('z')).toHaveLength(0);
  });
});

describe('dtype conversion', () => {
  it('F16 bit patterns', () => {
    expect(f16BitsToNumber(0x3c00)).toBe(1);
    expect(f16BitsToNumber(0xc000)).toBe(-2);
    expect(f16BitsToNumber(0x7bff)).toBe(65504);
    expect(f16BitsToNumber(0x0001)).toBe(2 ** -24);
    expect(f16BitsToNumber(0x3555)).toBe(0.333251953125);
    expect(f16BitsToNumber(0x7c00)).toBe(Infinity);
    expect(f16BitsToNumber(0xfc00)).toBe(-Infinity);
    expect(Number.isNaN(f16BitsToNumber(0x7e00))).toBe(true);
    expect(Object.is(f16BitsToNumber(0x8000), -0)).toBe(true);
  });

  it('BF16 and unaligned input', () => {
    // 1.0 = 0x3F80, 3.140625 = 0x4049, -0.5 = 0xBF00; stored little-endian, at an odd byte offset.
    const buf = new Uint8Array([0xaa, 0x80, 0x3f, 0x49, 0x40, 0x00, 0xbf]);
    expect(Array.from(bytesToF32(buf.subarray(1), 'BF16', 't'))).toEqual([1, 3.140625, -0.5]);
    const f32 = new Uint8Array(9);
    new DataView(f32.buffer).setFloat32(1, 1.5, true);
    new DataView(f32.buffer).setFloat32(5, -7.25, true);
    expect(Array.from(bytesToF32(f32.subarray(1), 'F32', 't'))).toEqual([1.5, -7.25]);
  });
});

function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

describe('serializeSafetensors', () => {
  it('matches the Rust crate on known vectors', () => {
    const enc = (s: string) => Array.from(new TextEncoder().encode(s));
    const u64 = (n: number) => [n, 0, 0, 0, 0, 0, 0, 0];
    expect(Array.from(safetensorsBytes([]))).toEqual([...u64(8), ...enc('{}      ')]);
    expect(Array.from(safetensorsBytes([], { framework: 'pt' }))).toEqual([
      ...u64(40),
      ...enc('{"__metadata__":{"framework":"pt"}}     '),
    ]);
    const data = new Float32Array([0, 1, 2, 3, 4, 5]);
    const out = safetensorsBytes([{ name: 'attn.0', dtype: 'F32', shape: [1, 2, 3], data }]);
    const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect(header.length).toBe(64);
    expect(Array.from(out)).toEqual([...u64(64), ...enc(header), ...new Uint8Array(data.buffer)]);
  });

  it('round-trips every writable dtype, ordered by alignment then name', async () => {
    const f32 = rand(12, 1);
    const i32 = new Int32Array([-5, 7, 2147483647, -2147483648]);
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x7bff]);
    const bf16 = new Uint16Array([0x3f80, 0x4049]);
    const u8 = new Uint8Array([0, 1, 255, 7, 9]);
    const tensors: TensorToWrite[] = [
      { name: 'z.u8', dtype: 'U8', shape: [5], data: u8 },
      { name: 'b.f16', dtype: 'F16', shape: [3], data: f16 },
      { name: 'a.bf16', dtype: 'BF16', shape: [2, 1], data: bf16 },
      { name: 'y.f32', dtype: 'F32', shape: [3, 4], data: f32 },
      { name: 'c.i32', dtype: 'I32', shape: [2, 2], data: i32 },
      { name: 'a.f32', dtype: 'F32', shape: [2], data: f32.subarray(2, 4) },
    ];
    const chunks = serializeSafetensors(tensors, { note: 'round "trip"\n', b: 'ü' });
    expect(chunks).toHaveLength(7);
    expect(chunks[0].length % 8).toBe(0);
    const f: SafetensorsFile = await openSafetensors(blobSource(new Blob(chunks), 'rt.safetensors'));
    expect([...f.tensors.keys()]).toEqual(['a.f32', 'y.f32', 'c.i32', 'a.bf16', 'b.f16', 'z.u8']);
    expect(f.metadata).toEqual({ note: 'round "trip"\n', b: 'ü' });
    for (const t of f.tensors.values()) expect(t.byteOffset % 4 === 0 || t.dtype !== 'F32').toBe(true);
    expect(Array.from(await f.readF32('y.f32'))).toEqual(Array.from(f32));
    expect(Array.from(await f.readF32('a.f32'))).toEqual(Array.from(f32.subarray(2, 4)));
    expect(Array.from(await f.readI32('c.i32'))).toEqual(Array.from(i32));
    expect(Array.from(await f.readF32('b.f16'))).toEqual([1, -2, 65504]);
    expect(Array.from(await f.readF32('a.bf16'))).toEqual([1, 3.140625]);
    expect(Array.from(await f.readRaw('z.u8'))).toEqual(Array.from(u8));
    expect(f.tensors.get('a.bf16')?.shape).toEqual([2, 1]);
  });

  it('refuses data of the wrong length and duplicate names', () => {
    expect(() => serializeSafetensors([{ name: 'w', dtype: 'F32', shape: [3], data: new Float32Array(2) }])).toThrow(
      /'w': F32 \[3\] needs 12 bytes, but the data has 8/,
    );
    const t = { name: 'w', dtype: 'U8' as const, shape: [1], data: new Uint8Array(1) };
    expect(() => serializeSafetensors([t, t])).toThrow(/duplicate/);
  });

  it('re-serialising every fixture file gives byte-identical output', async () => {
    const files = readdirSync(STORIES).filter((n) => n.endsWith('.safetensors'));
    expect(files).toContain('model.safetensors');
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const name of files) {
      const p = join(STORIES, name);
      const f = await openSafetensors(pathSource(p));
      try {
        const tensors: TensorToWrite[] = [];
        for (const t of f.tensors.values()) {
          tensors.push({ name: t.name, dtype: t.dtype, shape: t.shape, data: await f.readRaw(t.name) });
        }
        const out = concatBytes(serializeSafetensors(tensors, f.metadata));
        const orig = new Uint8Array(readFileSync(p));
        expect(out.length, name).toBe(orig.length);
        expect(Buffer.compare(Buffer.from(out), Buffer.from(orig)), name).toBe(0);
      } finally {
        await f.close();
      }
    }
  });
});
