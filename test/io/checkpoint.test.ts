import { readFileSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolyPruneError } from '../../src/common/errors';
import { dirFolder } from '../../src/io/node';
import {
  openCheckpoint,
  serializeSafetensors,
  type Checkpoint,
  type TensorToWrite,
} from '../../src/io/safetensors';
import { fileListFolder, urlFolder } from '../../src/io/source';
import { startStaticServer, type StaticServer } from '../helpers/httpServer';
import { sharedPath, STORIES_DIR_REL, tempDir } from '../helpers/shared';
import { rejection } from '../helpers/errors';

const STORIES = sharedPath(STORIES_DIR_REL);

async function writeSafetensors(path: string, tensors: TensorToWrite[], metadata?: Record<string, string>): Promise<void> {
  await writeFile(path, serializeSafetensors(tensors, metadata));
}

/** Every tensor's raw bytes. */
async function allBytes(ckpt: Checkpoint): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const n of ckpt.names()) out.set(n, await ckpt.readRaw(n));
  return out;
}

let local: Checkpoint;
let localBytes: Map<string, Uint8Array>;
let tmp: { dir: string; remove: () => Promise<void> };
let shardDir: string;
let server: StaticServer;

beforeAll(async () => {
  local = await openCheckpoint(dirFolder(STORIES));
  localBytes = await allBytes(local);
  tmp = await tempDir('polyprune-ckpt-');

  // A 2-shard copy: tensors of layers 0-1 + embeddings in shard 1, the rest in shard 2.
  shardDir = join(tmp.dir, 'sharded');
  await mkdir(shardDir);
  const names = local.names();
  const inFirst = (n: string) => /^model\.(embed_tokens|layers\.[01]\.)/.test(n);
  const shardFiles = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
  const weightMap: Record<string, string> = {};
  for (const [i, file] of shardFiles.entries()) {
    const tensors = names
      .filter((n) => inFirst(n) === (i === 0))
      .map((n) => {
        const info = local.info(n);
        weightMap[n] = file;
        return { name: n, dtype: info.dtype, shape: info.shape, data: localBytes.get(n) as Uint8Array };
      });
    await writeSafetensors(join(shardDir, file), tensors, { format: 'pt' });
  }
  const totalSize = [...localBytes.values()].reduce((s, b) => s + b.byteLength, 0);
  await writeFile(
    join(shardDir, 'model.safetensors.index.json'),
    JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2),
  );
  await copyFile(join(STORIES, 'config.json'), join(shardDir, 'config.json'));

  server = await startStaticServer({ '/fixtures/': sharedPath('fixtures'), '/sharded/': shardDir });
});

afterAll(async () => {
  await local?.close();
  await server?.close();
  await tmp?.remove();
});

describe('openCheckpoint', () => {
  it('opens model.safetensors of a local folder', () => {
    expect(local.names()).toHaveLength(47);
    expect(local.files).toEqual([join(STORIES, 'model.safetensors')]);
    expect(local.has('lm_head.weight')).toBe(false);
    const info = local.info('model.layers.4.mlp.down_proj.weight');
    expect(info.shape).toEqual([64, 172]);
    expect(info.file).toBe(join(STORIES, 'model.safetensors'));
  });

  it('missing tensor: CHECKPOINT_MISMATCH listing close names', async () => {
    let err: unknown;
    try {
      local.info('model.layers.3.mlp.gate.weight');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PolyPruneError);
    expect((err as PolyPruneError).code).toBe('CHECKPOINT_MISMATCH');
    expect((err as PolyPruneError).message).toContain("Missing tensor 'model.layers.3.mlp.gate.weight'");
    expect((err as PolyPruneError).message).toContain("'model.layers.3.mlp.gate_proj.weight'");
    const e2 = await rejection(local.readF32('lm_head.weight'));
    expect(e2.code).toBe('CHECKPOINT_MISMATCH');
  });

  it('over HTTP, every tensor reads identically to the local file', async () => {
    const remote = await openCheckpoint(urlFolder(`${server.url}/fixtures/stories260K`));
    try {
      expect(remote.names()).toEqual(local.names());
      const before = server.requests.length;
      for (const n of remote.names()) {
        expect(remote.info(n).shape).toEqual(local.info(n).shape);
        expect(remote.info(n).byteOffset).toBe(local.info(n).byteOffset);
        const got = await remote.readRaw(n);
        expect(Buffer.compare(Buffer.from(got), Buffer.from(localBytes.get(n) as Uint8Array)), n).toBe(0);
      }
      // One ranged GET per tensor, never the whole file.
      const reqs = server.requests.slice(before);
      expect(reqs).toHaveLength(47);
      expect(reqs.every((r) => r.method === 'GET' && r.range?.startsWith('bytes='))).toBe(true);
      const f32 = await remote.readF32('model.layers.2.self_attn.q_proj.weight');
      expect(Array.from(f32)).toEqual(Array.from(await local.readF32('model.layers.2.self_attn.q_proj.weight')));
    } finally {
      await remote.close();
    }
  });

  it('a 2-shard copy with an index reads identically (local and HTTP)', async () => {
    for (const folder of [dirFolder(shardDir), urlFolder(`${server.url}/sharded`)]) {
      const ck = await openCheckpoint(folder);
      try {
        expect(ck.files).toHaveLength(2);
        expect([...ck.names()].sort()).toEqual([...local.names()].sort());
        expect(ck.info('model.layers.0.mlp.up_proj.weight').file).toMatch(/model-00001-of-00002\.safetensors$/);
        expect(ck.info('model.norm.weight').file).toMatch(/model-00002-of-00002\.safetensors$/);
        expect(ck.metadata).toEqual({ format: 'pt' });
        const bytes = await allBytes(ck);
        for (const [n, b] of bytes) {
          expect(Buffer.compare(Buffer.from(b), Buffer.from(localBytes.get(n) as Uint8Array)), n).toBe(0);
        }
      } finally {
        await ck.close();
      }
    }
  });

  it('a dropped folder (File objects) works too', async () => {
    const files = ['config.json', 'model.safetensors'].map((n) => {
      const f = new File([readFileSync(join(STORIES, n))], n);
      Object.defineProperty(f, 'webkitRelativePath', { value: `stories260K/${n}` });
      return f;
    });
    const ck = await openCheckpoint(fileListFolder(files));
    expect(ck.names()).toEqual(local.names());
    const n = 'model.layers.1.self_attn.v_proj.weight';
    expect(Array.from(await ck.readRaw(n))).toEqual(Array.from(localBytes.get(n) as Uint8Array));
  });
});

describe('openCheckpoint errors', () => {
  it('folder without weights: FILE_NOT_FOUND naming both file names', async () => {
    const dir = join(tmp.dir, 'empty');
    await mkdir(dir);
    await writeFile(join(dir, 'pytorch_model.bin'), 'x');
    const e = await rejection(openCheckpoint(dirFolder(dir)));
    expect(e.code).toBe('FILE_NOT_FOUND');
    expect(e.message).toContain('model.safetensors');
    expect(e.message).toContain('model.safetensors.index.json');
    expect(e.message).toContain('pytorch_model.bin, which is not supported');
  });

  it('index mapping a tensor to a shard that lacks it', async () => {
    const dir = join(tmp.dir, 'badmap');
    await mkdir(dir);
    await writeSafetensors(join(dir, 'a.safetensors'), [{ name: 'x', dtype: 'F32', shape: [2], data: new Float32Array(2) }]);
    await writeSafetensors(join(dir, 'b.safetensors'), [{ name: 'y', dtype: 'F32', shape: [2], data: new Float32Array(2) }]);
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { x: 'a.safetensors', y: 'a.safetensors' } }));
    const e = await rejection(openCheckpoint(dirFolder(dir)));
    expect(e.code).toBe('CHECKPOINT_MISMATCH');
    expect(e.message).toContain("maps tensor 'y' to a.safetensors, but that file has no such tensor");
  });

  it('index naming a shard that does not exist', async () => {
    const dir = join(tmp.dir, 'noshard');
    await mkdir(dir);
    await writeSafetensors(join(dir, 'a.safetensors'), [{ name: 'x', dtype: 'F32', shape: [2], data: new Float32Array(2) }]);
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { x: 'a.safetensors', y: 'c.safetensors' } }));
    const e = await rejection(openCheckpoint(dirFolder(dir)));
    expect(e.code).toBe('FILE_NOT_FOUND');
    expect(e.message).toContain("'c.safetensors' not found in");
  });

  it('index that is not JSON or has no weight_map', async () => {
    const dir = join(tmp.dir, 'badindex');
    await mkdir(dir);
    await writeFile(join(dir, 'model.safetensors.index.json'), '{"weight_map": ');
    const e = await rejection(openCheckpoint(dirFolder(dir)));
    expect(e.code).toBe('SAFETENSORS_FORMAT');
    expect(e.message).toContain('model.safetensors.index.json');
    expect(e.message).toContain('not valid JSON');
    await writeFile(join(dir, 'model.safetensors.index.json'), '{"metadata": {}}');
    const e2 = await rejection(openCheckpoint(dirFolder(dir)));
    expect(e2.message).toContain('"weight_map"');
  });

  it('a tensor stored in two shards that the index does not assign', async () => {
    const dir = join(tmp.dir, 'dup');
    await mkdir(dir);
    const t = (name: string): TensorToWrite => ({ name, dtype: 'F32', shape: [1], data: new Float32Array(1) });
    await writeSafetensors(join(dir, 'a.safetensors'), [t('x'), t('z')]);
    await writeSafetensors(join(dir, 'b.safetensors'), [t('y'), t('z')]);
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { x: 'a.safetensors', y: 'b.safetensors' } }));
    const e = await rejection(openCheckpoint(dirFolder(dir)));
    expect(e.code).toBe('CHECKPOINT_MISMATCH');
    expect(e.message).toContain("Tensor 'z' is stored in two shards");
  });
});
