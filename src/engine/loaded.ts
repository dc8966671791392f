/** A model the engine holds: its summary, config, files, tokenizer and GPU weights (engine-internal; the front ends see ModelSummary). */
import type { ModelConfig } from '../io/config';
import type { ModelFolder } from '../io/source';
import type { Checkpoint } from '../io/safetensors';
import type { TextTokenizer } from '../io/tokenizer';
import type { LlamaModel } from '../model/llama';
import type { PrunedTensors, PruningRecord } from '../export/hf';
import type { ModelMask } from '../prune/mask';
import type { QuantizedTensors } from '../export/gptq';
import type { ModelSummary } from './api';

export interface LoadedModel {
  summary: ModelSummary;
  cfg: ModelConfig;
  folder: ModelFolder;
  checkpoint: Checkpoint;
  tokenizer: TextTokenizer;
  model: LlamaModel;
  /** Set for pruned models: the pruned tensors (source dtype), the pruning record, the calibration windows and the mask. */
  pruning?: { pruned: PrunedTensors; record: PruningRecord; base: Checkpoint; calibration: { ids: Int32Array; n: number; seqlen: number } | null; mask?: ModelMask; quantized?: QuantizedTensors | null };
  /** pruning.json of a model loaded from a PolyPrune export (carried into its re-exports). */
  record?: PruningRecord;
}
