/** Shared store types. The store holds serialisable UI state and result summaries only. */
import type { StateCreator } from 'zustand';
import type { GpuSlice } from './gpuSlice';
import type { ModelSlice } from './modelSlice';
import type { PerplexitySlice } from './perplexitySlice';
import type { PruneSlice } from './pruneSlice';
import type { OpsSlice } from './opsSlice';
import type { MessagesSlice } from './messagesSlice';
import type { ExperimentSlice } from './experimentSlice';
import type { TasksSlice } from './tasksSlice';
import type { HistorySlice } from './historySlice';
import type { MixerSlice } from './mixerSlice';

export type AppState = GpuSlice & ModelSlice & PerplexitySlice & PruneSlice & ExperimentSlice & TasksSlice & OpsSlice & MessagesSlice & HistorySlice & MixerSlice;

/** A slice creator with access to the whole state (zustand "slices pattern"). */
export type SliceCreator<T> = StateCreator<AppState, [], [], T>;
