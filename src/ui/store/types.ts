/** Shared store types. The store holds serialisable UI state and result summaries only. */
import type { StateCreator } from 'zustand';
import type { GpuSlice } from '../features/gpu/gpuSlice';
import type { ModelSlice } from '../features/model/modelSlice';
import type { PerplexitySlice } from '../features/perplexity/perplexitySlice';
import type { PruneSlice } from '../features/prune/pruneSlice';
import type { OpsSlice } from './opsSlice';
import type { MessagesSlice } from './messagesSlice';
import type { ExperimentSlice } from '../features/experiment/experimentSlice';
import type { TasksSlice } from '../features/tasks/tasksSlice';
import type { HistorySlice } from '../features/history/historySlice';
import type { MixerSlice } from '../features/mixer/mixerSlice';
import type { ViewSlice } from './viewSlice';
import type { TryItSlice } from '../features/tryit/tryitSlice';

export type AppState = GpuSlice & ModelSlice & PerplexitySlice & PruneSlice & ExperimentSlice & TasksSlice & OpsSlice & MessagesSlice & HistorySlice & MixerSlice & ViewSlice & TryItSlice;

/** A slice creator with access to the whole state (zustand "slices pattern"). */
export type SliceCreator<T> = StateCreator<AppState, [], [], T>;
