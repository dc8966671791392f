import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { dirFolder, pathSource } from '../../src/io/node';
import { openSafetensors, openCheckpoint } from '../../src/io/safetensors';
import { loadModelConfig } from '../../src/io/config';
import type { CpuModel } from '../../src/model/reference';
import { ropeInvFreq } from '../../src/io/config';
import type { Gpu } from '../../src/gpu/device';
import { LlamaModel } from '../../src/model/llama';

/** ../shared beside the checkout. Tests that need it fail loudly when it is missing. */
export const SHARED = path.resolve(process.cwd(), '../shared');
export const FIXTURE = path.join(SHARED, 'fixtures/stories260K');

export function requireShared(p: string): string {
  if (!existsSync(p)) throw new Error(`Test data missing: ${p}. The tests need ../shared (fixtures and data) beside the checkout.`);
  return p;
}

export function fixtureMetrics(): any {
  return JSON.parse(readFileSync(requireShared(path.join(FIXTURE, 'metrics.json')), 'utf8'));
}

export async function fixtureTensors(file: string) {
  return openSafetensors(pathSource(requireShared(path.join(FIXTURE, file))));
}

/** `input_ids` rows of a fixture calib/eval file. */
export async function fixtureWindows(file: string): Promise<{ ids: Int32Array; n: number; seqlen: number }> {
  const f = await fixtureTensors(file);
  const info = f.tensors.get('input_ids')!;
  const ids = await f.readI32('input_ids');
  await f.close();
  return { ids, n: info.shape[0], seqlen: info.shape[1] };
}

/** The fixture's model config alone (opens no checkpoint). */
export async function fixtureConfig() {
  return loadModelConfig(dirFolder(requireShared(FIXTURE)));
}

export async function fixtureCheckpoint() {
  const folder = dirFolder(requireShared(FIXTURE));
  const cfg = await loadModelConfig(folder);
  const ckpt = await openCheckpoint(folder);
  return { folder, cfg, ckpt };
}

export async function fixtureCpuModel(): Promise<CpuModel> {
  const { cfg, ckpt } = await fixtureCheckpoint();
  const weights = new Map<string, Float32Array>();
  for (const n of ckpt.names()) weights.set(n, await ckpt.readF32(n));
  return { dims: cfg, invFreq: ropeInvFreq(cfg), weights };
}

/** A fresh LlamaModel of the fixture on `gpu` (resident by default). */
export async function fixtureModel(gpu: Gpu, resident = true): Promise<LlamaModel> {
  const { cfg, ckpt } = await fixtureCheckpoint();
  return LlamaModel.load(gpu, cfg, ckpt, { resident });
}

type Windows = { ids: Int32Array; n: number; seqlen: number };

/** The first `a` windows of `x` followed by the first `b` windows of `y` (same window length). */
export function concatWindows(x: Windows, a: number, y: Windows, b: number): Windows {
  const S = x.seqlen;
  const ids = new Int32Array((a + b) * S);
  ids.set(x.ids.subarray(0, a * S), 0);
  ids.set(y.ids.subarray(0, b * S), a * S);
  return { ids, n: a + b, seqlen: S };
}
