import type { GridResult } from '../../experiment/grid';
import type { PruneMethod, SparsityPattern } from './pruneSlice';
import type { SliceCreator } from './types';

/** What the heatmap shows: perplexity or bits per byte. */
export type MatrixMetric = 'ppl' | 'bpb';

/** One row of `ownLanguageWins`: is the language's own calibration the best for it? */
export interface OwnLanguageWin {
  language: string;
  own: number;
  best: string;
  bestPpl: number;
  wins: boolean;
}

export interface MatrixRun {
  modelId: string;
  modelName: string;
  result: GridResult;
  wins: OwnLanguageWin[];
  elapsedMs: number;
}

/**
 * The language matrix (calibration language x evaluation language): the form and the last result.
 * Running it goes through actions.runMatrix.
 */
export interface MatrixSlice {
  matrixMethod: PruneMethod;
  matrixPattern: SparsityPattern;
  /** Calibration languages (rows); empty until the language list is known. */
  matrixCalib: string[];
  /** Evaluation languages (columns). */
  matrixEval: string[];
  /** Calibration windows per language. */
  matrixNsamples: number;
  /** Tokens per window, for calibration and evaluation. */
  matrixSeqlen: number;
  /** Evaluation windows per language. */
  matrixEvalWindows: number;
  matrixMetric: MatrixMetric;
  matrixRun: MatrixRun | null;
  setMatrixMethod: (m: PruneMethod) => void;
  setMatrixPattern: (p: SparsityPattern) => void;
  setMatrixCalib: (langs: string[]) => void;
  setMatrixEval: (langs: string[]) => void;
  setMatrixNsamples: (n: number) => void;
  setMatrixSeqlen: (n: number) => void;
  setMatrixEvalWindows: (n: number) => void;
  setMatrixMetric: (m: MatrixMetric) => void;
  setMatrixRun: (r: MatrixRun | null) => void;
}

export const createMatrixSlice: SliceCreator<MatrixSlice> = (set) => ({
  matrixMethod: 'wanda',
  matrixPattern: { kind: 'unstructured', sparsity: 0.5 },
  matrixCalib: [],
  matrixEval: [],
  matrixNsamples: 32,
  matrixSeqlen: 128,
  matrixEvalWindows: 8,
  matrixMetric: 'ppl',
  matrixRun: null,
  setMatrixMethod: (matrixMethod) => set({ matrixMethod }),
  setMatrixPattern: (matrixPattern) => set({ matrixPattern }),
  setMatrixCalib: (matrixCalib) => set({ matrixCalib }),
  setMatrixEval: (matrixEval) => set({ matrixEval }),
  setMatrixNsamples: (matrixNsamples) => set({ matrixNsamples }),
  setMatrixSeqlen: (matrixSeqlen) => set({ matrixSeqlen }),
  setMatrixEvalWindows: (matrixEvalWindows) => set({ matrixEvalWindows }),
  setMatrixMetric: (matrixMetric) => set({ matrixMetric }),
  setMatrixRun: (matrixRun) => set({ matrixRun }),
});
