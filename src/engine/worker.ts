/** Web Worker entry: runs the in-thread engine off the UI thread (the page talks to it via client.ts). */
import { expose } from 'comlink';
import { LocalEngine } from './engine';
import { cacheApiWeightCache } from '../io/cache';
import { engineEndpoint, installErrorTransfer } from './rpc';

installErrorTransfer();
expose(engineEndpoint(new LocalEngine({ gpu: async () => navigator.gpu, weightCache: cacheApiWeightCache() ?? undefined })));
