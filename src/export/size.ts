/**
 * The exact bytes of an export's model files, computed from the model's config and tensor list
 * (names, dtypes, shapes) and the quantization settings, without reading or writing a weight:
 *   hf       model.safetensors, or the shards plus model.safetensors.index.json
 *   hf-gptq  the same files with each quantized linear as qweight/qzeros/scales/g_idx
 *   onnx     onnx/<graph>.onnx of each variant plus its external data files
 * config.json, generation_config.json, tokenizer files and pruning.json are not counted (they are
 * the same few kB in every format; pruning.json itself records these sizes). The exporters write
 * exactly these bytes (test/export/size.test.ts compares with written files).
 */
import { PolyPruneError } from '../common/errors';
import type { ModelConfig } from '../io/config';
import { dtypeSize, numel } from '../io/dtypes';
import { safetensorsLayout, SAFETENSORS_INDEX_FILE, SAFETENSORS_SINGLE_FILE, type Checkpoint, type TensorMeta } from '../io/safetensors';
import { checkQuantizedExport, gptqFolderMetas, quantizedShapes, type QuantSettings } from './gptq';
import { DEFAULT_MAX_SHARD_BYTES, planShards, type PruningRecord } from './hf';
import { defaultOnnxVariants, onnxFileBytes, type OnnxVariant } from './onnx';

export type SizedFormat = 'hf' | 'hf-gptq' | 'onnx';

export interface ExportSizeInput {
  cfg: ModelConfig;
  /** The checkpoint's tensors (`checkpointTensors(ckpt)`): names, dtypes, shapes. */
  tensors: readonly TensorMeta[];
  format: SizedFormat;
  /** The model's quantization (hf-gptq and the ONNX q variants need it). */
  quant?: QuantSettings | null;
  /** ONNX graphs (default: q<bits> for a quantized model, else fp32 and fp16, as the exporter). */
  onnxVariants?: readonly OnnxVariant[];
  /** The ONNX files' metadata hold a summary of pruning.json: give the record the export will carry. */
  record?: PruningRecord | null;
  maxShardBytes?: number;
  externalDataThreshold?: number;
  maxChunkBytes?: number;
}

export interface ExportSize {
  /** Bytes of each model file, by its path in the export. */
  files: Record<string, number>;
  /** Their sum. */
  total: number;
}

/** A checkpoint's tensor list for {@link exportedBytes}. */
export function checkpointTensors(ckpt: Checkpoint): TensorMeta[] {
  return ckpt.names().map((name) => {
    const i = ckpt.info(name);
    return { name, dtype: i.dtype, shape: i.shape };
  });
}

function safetensorsBytes(tensors: readonly TensorMeta[]): number {
  return safetensorsLayout(tensors, { format: 'pt' }).header.byteLength + tensors.reduce((a, t) => a + numel(t.shape) * dtypeSize(t.dtype), 0);
}

/**
 * The exact size in bytes of an export's model files (see the file comment). Pure: nothing is read
 * or written. Throws the exporter's one-line BAD_ARGUMENT where the format cannot hold the model.
 */
export function exportedBytes(input: ExportSizeInput): ExportSize {
  const { cfg, format } = input;
  const files: Record<string, number> = {};
  if (format === 'hf' || format === 'hf-gptq') {
    let metas = [...input.tensors];
    if (format === 'hf-gptq') {
      if (!input.quant) throw new PolyPruneError('BAD_ARGUMENT', 'The hf-gptq format stores GPTQ codes; this model is not quantized.');
      checkQuantizedExport('hf-gptq', input.quant, quantizedShapes(metas));
      metas = gptqFolderMetas(metas, input.quant);
    }
    const shards = planShards([...metas].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)), input.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES);
    if (shards.length === 1) {
      files[SAFETENSORS_SINGLE_FILE] = safetensorsBytes(metas);
    } else {
      const n = shards.length;
      const weightMap: Record<string, string> = {};
      let totalSize = 0;
      for (const [k, shard] of shards.entries()) {
        const file = `model-${String(k + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;
        files[file] = safetensorsBytes(shard);
        totalSize += shard.reduce((a, t) => a + numel(t.shape) * dtypeSize(t.dtype), 0);
        for (const t of shard) weightMap[t.name] = file;
      }
      const sorted = Object.fromEntries(Object.keys(weightMap).sort().map((k) => [k, weightMap[k]]));
      files[SAFETENSORS_INDEX_FILE] = new TextEncoder().encode(JSON.stringify({ metadata: { total_size: totalSize }, weight_map: sorted }, null, 2) + '\n').byteLength;
    }
  } else if (format === 'onnx') {
    if (!['llama', 'mistral', 'qwen2'].includes(cfg.modelType)) throw new PolyPruneError('UNSUPPORTED_MODEL', `ONNX export supports llama, mistral and qwen2, not '${cfg.modelType}'.`);
    const byName = new Map(input.tensors.map((t) => [t.name, t.shape]));
    const shape = (n: string): readonly number[] => {
      const s = byName.get(n);
      if (!s) throw new PolyPruneError('CHECKPOINT_MISMATCH', `Missing tensor '${n}'`);
      return s;
    };
    for (const variant of input.onnxVariants ?? defaultOnnxVariants(input.quant)) {
      if (variant.startsWith('q')) {
        if (!input.quant) throw new PolyPruneError('BAD_ARGUMENT', `ONNX ${variant} stores GPTQ codes; this model is not quantized.`);
        checkQuantizedExport('onnx', input.quant, quantizedShapes(input.tensors));
      }
      Object.assign(files, onnxFileBytes({ cfg, shape, variant, quant: input.quant, record: input.record, externalDataThreshold: input.externalDataThreshold, maxChunkBytes: input.maxChunkBytes }));
    }
  } else {
    throw new PolyPruneError('BAD_ARGUMENT', `Unknown export format '${String(format)}'. Supported: hf, hf-gptq, onnx.`);
  }
  return { files, total: Object.values(files).reduce((a, b) => a + b, 0) };
}
