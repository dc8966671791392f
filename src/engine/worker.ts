/** Web Worker entry: runs the in-thread engine off the UI thread (the page talks to it via client.ts). */
import { expose } from 'comlink';
import { LocalEngine, parseSubmitBudget } from './engine';
import { cacheApiWeightCache } from '../io/cache';
import { opfsSpill } from '../io/opfs';
import { engineEndpoint, installErrorTransfer } from './rpc';

installErrorTransfer();
// The page passes its settings in the worker's name ('polyprune-engine?gpuSubmitBudget=1e9'): a bad value fails the worker's start with the engine's message.
const settings = new URLSearchParams(self.name.split('?')[1] ?? '');
const budget = settings.get('gpuSubmitBudget');
const lose = settings.get('loseDeviceAfterSubmits');
const spillAbove = settings.get('spillPrunedAbove');
// Big pruned models keep their matrices in the origin private file system, not on this worker's heap.
expose(engineEndpoint(new LocalEngine({ gpu: async () => navigator.gpu, weightCache: cacheApiWeightCache() ?? undefined, gpuSubmitBudget: budget === null ? undefined : parseSubmitBudget(budget, '?gpuSubmitBudget='), loseDeviceAfterSubmits: lose === null ? undefined : Number(lose), spill: opfsSpill(), spillPrunedAboveBytes: spillAbove === null ? undefined : Number(spillAbove) })));
