/** Further benchmark sections (pruning, evaluation) register here. */
import type { Gpu } from '../src/gpu/device';
import type { LlamaModel } from '../src/model/llama';

export interface BenchContext {
  gpu: Gpu;
  model: LlamaModel;
  fixtureDir: string;
  timeIt: (fn: () => Promise<void>, minMs?: number, maxReps?: number) => Promise<number>;
}

export const benchSections: Array<(ctx: BenchContext) => Promise<void>> = [];

import { benchOnnx } from './onnx';
benchSections.push(benchOnnx);
import { benchBig } from './big';
benchSections.push(benchBig);
import { benchMix } from './mix';
benchSections.push(benchMix);
import { benchDecode } from './decode';
benchSections.push(benchDecode);
import { benchSpill } from './spill';
benchSections.push(() => benchSpill());
