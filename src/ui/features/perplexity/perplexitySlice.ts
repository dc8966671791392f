import type { PerplexityResult } from '../../../engine';
import type { SliceCreator } from '../../store/types';

/** Languages that have bundled evaluation text, read from the default model's split.json. */
export type LanguageList =
  | { state: 'loading' }
  | { state: 'ready'; languages: string[] }
  | { state: 'missing'; message: string };

export type TextSource = { kind: 'bundled'; language: string } | { kind: 'custom' };

export interface PplRecord {
  /** Model id the result belongs to. */
  modelId: string;
  /** The model's name when measured (the row stays, labelled, after the model is unloaded). */
  modelName: string;
  /** Language code for bundled text, or a label for custom text. */
  label: string;
  /** The window limit asked for (the windows scored depend on the text's length too). */
  maxWindows: number;
  result: PerplexityResult;
}

export interface PerplexitySlice {
  languages: LanguageList;
  textSource: TextSource;
  customText: string;
  customTextName: string;
  /** Own texts opened or dropped (each file kept); one of them is in the text area. */
  ownTexts: { name: string; text: string }[];
  seqlen: number;
  maxWindows: number;
  /**
   * Results of every model, newest last, side by side. A rerun with the same model, text and
   * settings replaces its row (and says so); other settings add a row.
   */
  pplResults: PplRecord[];
  setLanguages: (l: LanguageList) => void;
  setTextSource: (t: TextSource) => void;
  setCustomText: (text: string, name?: string) => void;
  addOwnTexts: (texts: { name: string; text: string }[]) => void;
  setSeqlen: (n: number) => void;
  setMaxWindows: (n: number) => void;
  /** Returns true when it replaced an earlier row with the same model, text and settings. */
  addPplResult: (r: PplRecord) => boolean;
  clearPplResults: (modelId?: string) => void;
  /** Remove one result row (same model, text and settings). */
  removePplResult: (r: PplRecord) => void;
}

const sameRun = (a: PplRecord, b: PplRecord): boolean =>
  a.modelId === b.modelId && a.label === b.label && a.result.seqlen === b.result.seqlen && a.maxWindows === b.maxWindows && a.result.stride === b.result.stride;

export const createPerplexitySlice: SliceCreator<PerplexitySlice> = (set, get) => ({
  languages: { state: 'loading' },
  textSource: { kind: 'custom' },
  customText: '',
  customTextName: 'pasted text',
  ownTexts: [],
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
  addOwnTexts: (texts) =>
    set((s) => ({
      ownTexts: [...s.ownTexts.filter((t) => !texts.some((n) => n.name === t.name)), ...texts],
      customText: texts[0]?.text ?? s.customText,
      customTextName: texts[0]?.name ?? s.customTextName,
      textSource: texts.length ? { kind: 'custom' } : s.textSource,
    })),
  addPplResult: (r) => {
    const replaced = get().pplResults.some((x) => sameRun(x, r));
    set((s) => ({ pplResults: [...s.pplResults.filter((x) => !sameRun(x, r)), r] }));
    return replaced;
  },
  clearPplResults: (modelId) => set((s) => ({ pplResults: modelId === undefined ? [] : s.pplResults.filter((x) => x.modelId !== modelId) })),
  removePplResult: (r) => set((s) => ({ pplResults: s.pplResults.filter((x) => !sameRun(x, r)) })),
});
