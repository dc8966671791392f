import type { Engine } from '../../../engine';
import type { SliceCreator } from '../../store/types';

/** Adapter facts as the engine reports them (src/gpu is off limits to the UI). */
export type GpuInfo = Awaited<ReturnType<Engine['gpuInfo']>>;

export type GpuStatus =
  | { state: 'checking' }
  | { state: 'ready'; info: GpuInfo }
  /** `api`: whether navigator.gpu exists in the page (false: the browser has no WebGPU at all). */
  | { state: 'unavailable'; api: boolean; code: string; message: string };

export interface GpuSlice {
  gpu: GpuStatus;
  setGpu: (gpu: GpuStatus) => void;
}

export const createGpuSlice: SliceCreator<GpuSlice> = (set) => ({
  gpu: { state: 'checking' },
  setGpu: (gpu) => set({ gpu }),
});
