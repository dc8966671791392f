/**
 * The mixer's statistics as a file (`polyprune mix --save-stats` / `--load-stats`, docs/mixer.md):
 * a safetensors file whose `__metadata__` holds the provenance and whose tensors hold the numbers.
 *
 *   __metadata__  format = "polyprune-mix-stats", version = "1", method = "wanda" | "sparsegpt",
 *                 model_sha256 (ModelSummary.sha256), layers, nsamples, seqlen, seed ("" = none),
 *                 sources (JSON: [{ name, language, windows, bytes, sha256 }]), files (JSON: provenance)
 *   ids                       I32 [N, seqlen]  every window, source after source
 *   wanda.{layer}.{group}     F32 [N, K]       (method wanda) per-window sums of squares
 *   hessian.{s}.{layer}.{group} F32 [K, K]     (method sparsegpt) source s's dense Hessian
 *
 * {group} is the lead linear of the input group: self_attn.q_proj (q/k/v), self_attn.o_proj,
 * mlp.gate_proj (gate/up), mlp.down_proj. Reading checks the file's shape only; `loadStats` checks
 * the model (content hash), the shapes and the values.
 */
import { PolyPruneError } from '../common/errors';
import { openSafetensors, serializeSafetensors, type TensorToWrite } from '../io/safetensors';
import type { ByteSource } from '../io/source';
import { MIXERS } from '../prune/mixer';
import type { StatsData } from './api';
import { MIX_METHODS, isMixMethod } from '../prune/method';

export const STATS_FILE_FORMAT = 'polyprune-mix-stats';

function tensorNames(method: StatsData['method'], sources: number, layers: number): string[] {
  return MIXERS[method].tensorNames(sources, layers);
}

/** The file's bytes as chunks (header first), without copying the numbers. */
export function statsFileChunks(data: StatsData): Uint8Array<ArrayBuffer>[] {
  const S = data.seqlen;
  const N = data.ids.length / S;
  const names = tensorNames(data.method, data.sources.length, data.layers);
  if (names.length !== data.values.length) throw new PolyPruneError('INTERNAL', `statsFileChunks: ${data.values.length} arrays for ${names.length} tensors`);
  const tensors: TensorToWrite[] = [{ name: 'ids', dtype: 'I32', shape: [N, S], data: data.ids }];
  names.forEach((name, k) => {
    const v = data.values[k];
    tensors.push({ name, dtype: 'F32', shape: MIXERS[data.method].tensorShape(v.length, N), data: v });
  });
  const metadata: Record<string, string> = {
    format: STATS_FILE_FORMAT,
    version: String(data.version),
    method: data.method,
    model_sha256: data.modelSha256,
    layers: String(data.layers),
    nsamples: String(data.nsamples),
    seqlen: String(S),
    seed: data.seed === null ? '' : String(data.seed),
    sources: JSON.stringify(data.sources),
    files: JSON.stringify(data.files),
  };
  return serializeSafetensors(tensors, metadata);
}

function bad(file: string, what: string): PolyPruneError {
  return new PolyPruneError('BAD_ARGUMENT', `${file} is not a PolyPrune mixer statistics file: ${what}. Write one with \`polyprune mix --save-stats <file>\`.`);
}

function intField(file: string, meta: Readonly<Record<string, string>>, key: string): number {
  const v = Number(meta[key]);
  if (meta[key] === undefined || !Number.isInteger(v)) throw bad(file, `__metadata__.${key} is ${JSON.stringify(meta[key])}, not an integer`);
  return v;
}

function jsonField(file: string, meta: Readonly<Record<string, string>>, key: string): unknown {
  try {
    return JSON.parse(meta[key] ?? '');
  } catch {
    throw bad(file, `__metadata__.${key} is not JSON`);
  }
}

/** Reads a statistics file (closes the source). Throws BAD_ARGUMENT naming what is wrong. */
export async function readStatsFile(src: ByteSource): Promise<StatsData> {
  const st = await openSafetensors(src);
  const file = src.name;
  try {
    const meta = st.metadata;
    if (meta.format !== STATS_FILE_FORMAT) throw bad(file, `__metadata__.format is ${JSON.stringify(meta.format)}`);
    if (meta.version !== '1') throw new PolyPruneError('BAD_ARGUMENT', `${file}: mixer statistics file version ${meta.version}; this PolyPrune reads version 1. Collect the statistics again.`);
    const method = meta.method;
    if (!isMixMethod(method)) throw bad(file, `method ${JSON.stringify(method)} (supported: ${MIX_METHODS.join(', ')})`);
    const layers = intField(file, meta, 'layers');
    const seqlen = intField(file, meta, 'seqlen');
    const nsamples = intField(file, meta, 'nsamples');
    const seed = meta.seed === '' ? null : intField(file, meta, 'seed');
    const sources = jsonField(file, meta, 'sources') as StatsData['sources'];
    const files = jsonField(file, meta, 'files') as StatsData['files'];
    if (!Array.isArray(sources) || !Array.isArray(files)) throw bad(file, 'sources or files is not a list');
    if (typeof meta.model_sha256 !== 'string') throw bad(file, 'no model_sha256');
    if (!st.tensors.has('ids')) throw bad(file, "no tensor 'ids'");
    const names = tensorNames(method, sources.length, layers);
    const missing = names.filter((n) => !st.tensors.has(n));
    if (missing.length) throw bad(file, `missing tensor${missing.length === 1 ? '' : 's'} ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''}`);
    for (const n of names) if (st.tensors.get(n)!.dtype !== 'F32') throw bad(file, `tensor ${n} is ${st.tensors.get(n)!.dtype}, not F32`);
    const ids = await st.readI32('ids');
    const values: Float32Array[] = [];
    for (const n of names) values.push(await st.readF32(n));
    return { format: 'polyprune-mix-stats', version: 1, modelSha256: meta.model_sha256, method, sources, nsamples, seqlen, seed, layers, ids, files, values };
  } finally {
    await st.close();
  }
}
