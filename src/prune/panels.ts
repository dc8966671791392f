/**
 * Square f32 matrices (d, d) stored as row panels, each panel within one storage binding: SparseGPT's
 * Hessian, its Cholesky factor and the inverse factor for in_features beyond what one binding holds
 * (d^2 * 4 bytes > maxStorageBufferBindingSize: d > 5792 at 128 MiB). Panel p holds rows
 * [p * rowsPer, min(d, (p + 1) * rowsPer)), row-major with leading dimension d. A matrix that fits one
 * binding is one panel, and every kernel then runs exactly as on a plain (d, d) tensor.
 */
import { PolyPruneError } from '../common/errors';
import { type Gpu, type Tensor } from '../gpu/device';
import { fmtBytes } from '../common/format';

export interface PanelMatrix {
  readonly d: number;
  /** Rows per panel (the last panel may hold fewer). */
  readonly rowsPer: number;
  readonly panels: readonly Tensor[];
}

/** First row of panel p. */
export const panelStart = (m: Pick<PanelMatrix, 'rowsPer'>, p: number): number => p * m.rowsPer;
/** Number of rows in panel p. */
export const panelRows = (m: Pick<PanelMatrix, 'd' | 'rowsPer'>, p: number): number => Math.min(m.rowsPer, m.d - p * m.rowsPer);
/** Index of the panel holding row r. */
export const panelOf = (m: Pick<PanelMatrix, 'rowsPer'>, r: number): number => Math.floor(r / m.rowsPer);

/**
 * Rows per panel for a (d, d) f32 matrix on this adapter: d when it fits one binding, else the largest
 * multiple of `align` whose panel fits. GPU_LIMITS when not even `align` rows fit.
 */
export function panelRowsFor(gpu: Gpu, d: number, align = 1, what = 'A matrix'): number {
  const maxBind = Math.min(gpu.info.limits.maxStorageBufferBindingSize, gpu.info.limits.maxBufferSize);
  if (d * d * 4 <= maxBind) return d;
  const rows = Math.floor(maxBind / (d * 4) / align) * align;
  if (rows < 1) {
    throw new PolyPruneError(
      'GPU_LIMITS',
      `${what} of ${d} columns needs panels of at least ${align} rows (${fmtBytes(align * d * 4)}) in one storage binding, but this adapter allows ${fmtBytes(maxBind)}. Use Wanda or magnitude pruning for this model, or a GPU with larger binding limits.`,
    );
  }
  return rows;
}

/** A (d, d) matrix of uninitialised panels. */
export function allocPanels(gpu: Gpu, d: number, rowsPer: number, label: string): PanelMatrix {
  const panels: Tensor[] = [];
  try {
    for (let r0 = 0; r0 < d; r0 += rowsPer) panels.push(gpu.tensor([Math.min(rowsPer, d - r0), d], 'f32', label));
  } catch (e) {
    for (const t of panels) t.destroy();
    throw e;
  }
  return { d, rowsPer, panels };
}

/** Zero every panel (one reusable host buffer of one panel's size). */
export function zeroPanels(gpu: Gpu, m: PanelMatrix): void {
  const zeros = new Float32Array(Math.min(m.rowsPer, m.d) * m.d);
  m.panels.forEach((t, p) => gpu.write(t, zeros.subarray(0, panelRows(m, p) * m.d)));
}

/** One tensor seen as a one-panel matrix (no copy). */
export function asPanels(t: Tensor, d: number): PanelMatrix {
  return { d, rowsPer: d, panels: [t] };
}

/** A copy with the same layout. */
export function copyPanels(gpu: Gpu, m: PanelMatrix, label: string): PanelMatrix {
  const out = allocPanels(gpu, m.d, m.rowsPer, label);
  m.panels.forEach((t, p) => gpu.copy(t, 0, out.panels[p], 0, panelRows(m, p) * m.d));
  return out;
}

export function destroyPanels(m: PanelMatrix | undefined): void {
  if (m) for (const t of m.panels) t.destroy();
}

/** The whole matrix on the CPU (tests and small d only). */
export async function readPanels(gpu: Gpu, m: PanelMatrix): Promise<Float32Array> {
  const out = new Float32Array(m.d * m.d);
  for (let p = 0; p < m.panels.length; p++) out.set(await gpu.readF32(m.panels[p], 0, panelRows(m, p) * m.d), panelStart(m, p) * m.d);
  return out;
}
