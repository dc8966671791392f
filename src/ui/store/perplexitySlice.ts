import type { PerplexityResult } from '../../engine/api';
import type { SliceCreator } from './types';

/** Languages that have bundled evaluation text, read from the default model's split.json. */
export type LanguageList =
  | { state: 'loading' }
  | { state: 'ready'; languages: string[] }
  | { state: 'missing'; message: string };

export type TextSource = { kind: 'bundled'; language: string } | { kind: 'custom' };

export interface PplRecord {
  /** Model id the result belongs to. */
  modelId: string;
  /** Language code for bundled text, or a label for custom text. */
  label: string;
  result: PerplexityResult;
}

export interface PerplexitySlice {
  languages: LanguageList;
  textSource: TextSource;
  customText: string;
  customTextName: string;
  seqlen: number;
  maxWindows: number;
  /** Results, newest last; one per (model, label): a rerun replaces the old one. */
  pplResults: PplRecord[];
  setLanguages: (l: LanguageList) => void;
  setTextSource: (t: TextSource) => void;
  setCustomText: (text: string, name?: string) => void;
  setSeqlen: (n: number) => void;
  setMaxWindows: (n: number) => void;
  addPplResult: (r: PplRecord) => void;
  clearPplResults: (modelId: string) => void;
  /** Remove one result row (model, label). */
  removePplResult: (modelId: string, label: string) => void;
}

export const createPerplexitySlice: SliceCreator<PerplexitySlice> = (set) => ({
  languages: { state: 'loading' },
  textSource: { kind: 'custom' },
  customText: '',
  customTextName: 'pasted text',
  seqlen: 128,
  maxWindows: 16,
  pplResults: [],
  setLanguages: (languages) =>
    set((s) => ({
      languages,
      // Default to bundled English (or the first language) once the list is known.
      textSource:
        s.textSource.kind === 'custom' && !s.customText && languages.state === 'ready' && languages.languages.length
          ? { kind: 'bundled', language: languages.languages.includes('en') ? 'en' : languages.languages[0] }
          : s.textSource,
    })),
  setTextSource: (textSource) => set({ textSource }),
  setCustomText: (customText, name) => set((s) => ({ customText, customTextName: name ?? s.customTextName })),
  setSeqlen: (seqlen) => set({ seqlen }),
  setMaxWindows: (maxWindows) => set({ maxWindows }),
  addPplResult: (r) =>
    set((s) => ({ pplResults: [...s.pplResults.filter((x) => !(x.modelId === r.modelId && x.label === r.label)), r] })),
  clearPplResults: (modelId) => set((s) => ({ pplResults: s.pplResults.filter((x) => x.modelId !== modelId) })),
  removePplResult: (modelId, label) => set((s) => ({ pplResults: s.pplResults.filter((x) => !(x.modelId === modelId && x.label === label)) })),
});
