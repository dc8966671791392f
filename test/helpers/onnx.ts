/**
 * Running PolyPrune's ONNX exports in Node (test/export/*): onnxruntime-node on one sequence,
 * transformers.js on a local folder with no network, and the engine's own greedy continuation that
 * a runtime's `generate` is compared with.
 */
import * as ort from 'onnxruntime-node';
import type { ModelSummary } from '../../src/engine/api';
import type { LocalEngine } from '../../src/engine/local';

type KvShape = Pick<ModelSummary, 'numLayers' | 'numKvHeads' | 'headDim'>;

/** An empty KV cache: past_key_values.{layer}.{key,value} of shape (1, Hkv, 0, D). */
export function emptyPast(m: KvShape): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (let i = 0; i < m.numLayers; i++) for (const kv of ['key', 'value']) feeds[`past_key_values.${i}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [1, m.numKvHeads, 0, m.headDim]);
  return feeds;
}

/** Logits (S x V) of `ids` as one sequence with an empty KV cache, in onnxruntime-node (CPU). */
export async function ortLogits(file: string, ids: Int32Array, m: KvShape): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(file);
  const S = ids.length;
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (x) => BigInt(x)), [1, S]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(S).fill(1n), [1, S]),
    position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: S }, (_, i) => BigInt(i)), [1, S]),
    ...emptyPast(m),
  };
  const r = await session.run(feeds);
  await session.release();
  return r.logits.data as Float32Array;
}

/** transformers.js reading model folders below `root` only: no Hub, no browser or file cache. */
export async function offlineTransformers(root: string): Promise<typeof import('@huggingface/transformers')> {
  const tjs = await import('@huggingface/transformers');
  tjs.env.allowRemoteModels = false;
  tjs.env.allowLocalModels = true;
  tjs.env.localModelPath = root;
  tjs.env.useBrowserCache = false;
  tjs.env.useFSCache = false;
  return tjs;
}

/** `steps` greedy tokens after `ids` by full forwards of the engine (the first largest logit each step). */
export async function engineGreedy(engine: LocalEngine, modelId: string, ids: Int32Array, steps: number): Promise<number[]> {
  const V = (await engine.listModels()).find((x) => x.id === modelId)!.vocabSize;
  const out: number[] = [];
  let seq = Array.from(ids);
  for (let s = 0; s < steps; s++) {
    const l = await engine.logits(modelId, Int32Array.from(seq));
    let best = 0;
    for (let c = 1; c < V; c++) if (l[(seq.length - 1) * V + c] > l[(seq.length - 1) * V + best]) best = c;
    out.push(best);
    seq = [...seq, best];
  }
  return out;
}
