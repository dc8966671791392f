import type { OpPanel } from './opsSlice';
import type { SliceCreator } from './types';

export type Panel = OpPanel | 'gpu' | 'app';

export interface UiMessage {
  id: number;
  panel: Panel;
  level: 'error' | 'info';
  /** Error code from the engine (PolyPruneError.code), if any. */
  code?: string;
  text: string;
}

export interface MessagesSlice {
  messages: UiMessage[];
  pushMessage: (m: Omit<UiMessage, 'id'>) => void;
  dismissMessage: (id: number) => void;
  clearMessages: (panel: Panel) => void;
}

let nextId = 1;

export const createMessagesSlice: SliceCreator<MessagesSlice> = (set) => ({
  messages: [],
  pushMessage: (m) => set((s) => ({ messages: [...s.messages, { ...m, id: nextId++ }].slice(-20) })),
  dismissMessage: (id) => set((s) => ({ messages: s.messages.filter((m) => m.id !== id) })),
  clearMessages: (panel) => set((s) => ({ messages: s.messages.filter((m) => m.panel !== panel) })),
});
