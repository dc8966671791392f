/**
 * Non-finite (NaN/Inf) checks on the GPU: one reduction dispatch per tensor (shaders/util/nonfinite),
 * many tensors per readback. Used on weights at load, on activations and statistics during runs.
 */
import type { Gpu, Tensor } from './device';
import { grid1d } from './ops';
import { u32 } from './device';

/** What one checked item held: `count` non-finite values, the first at flat index `first`. */
export interface NonFinite {
  what: string;
  count: number;
  first: number;
  /** Columns of the item when it is a matrix (to print the first index as [row, col]). */
  cols?: number;
}

/** Plain-TS reference of shaders/util/nonfinite.wgsl over one array. */
export function refNonFinite(x: Float32Array): { count: number; first: number } {
  let count = 0;
  let first = -1;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      if (first < 0) first = i;
      count++;
    }
  }
  return { count, first };
}

/** counter[2*slot] += non-finite count of x[0..n); counter[2*slot+1] = min(.., base + first index). */
export function countNonFinite(gpu: Gpu, x: Tensor, n: number, counter: Tensor, slot: number, base = 0): void {
  // Entries per invocation: on a CPU adapter (SwiftShader) a workgroup costs far more than 256 entries.
  const per = gpu.info.cpu ? CPU_ENTRIES_PER_INVOCATION : 1;
  gpu.dispatch('util/nonfinite', [true, false], { params: [u32(n), u32(slot), u32(base)], bindings: [x, counter], workgroups: grid1d(n, 256 * per), constants: { PER: per }, work: { flops: n, bytes: 4 * n } });
}

/** util/nonfinite's entries per invocation on a CPU adapter. */
const CPU_ENTRIES_PER_INVOCATION = 64;

/** "first at [r, c]" or "first at index i". */
export function describeIndex(f: Pick<NonFinite, 'first' | 'cols'>): string {
  if (f.cols && f.cols > 0) return `[${Math.floor(f.first / f.cols)}, ${f.first % f.cols}]`;
  return `index ${f.first}`;
}

/**
 * A batch of non-finite checks: `add` records one dispatch per tensor (or row chunk), `read` returns
 * the items that held a NaN or Inf (in the order added) with one readback, and frees the counter.
 */
export class FiniteCheck {
  private items: { what: string; cols?: number }[] = [];
  /** Items checked on the host (packed 16-bit weights, scanned as they are uploaded). */
  private found: NonFinite[] = [];
  private slots = new Map<string, number>();
  private counter: Tensor | null = null;
  private capacity = 0;

  constructor(private readonly gpu: Gpu) {}

  /** Check x[0..n) as (part of) item `what`; `base` is the chunk's offset inside the item. */
  add(what: string, x: Tensor, n: number, opts: { base?: number; cols?: number } = {}): void {
    let slot = this.slots.get(what);
    if (slot === undefined) {
      slot = this.items.length;
      this.items.push({ what, cols: opts.cols });
      this.slots.set(what, slot);
    }
    if (slot >= this.capacity) this.grow();
    countNonFinite(this.gpu, x, n, this.counter!, slot, opts.base ?? 0);
  }

  /** Record a non-finite finding made on the host (reported by `read` before the GPU items). */
  addFound(item: NonFinite): void {
    this.found.push(item);
  }

  private grow(): void {
    const cap = Math.max(16, this.capacity * 2);
    const init = new Uint32Array(2 * cap);
    for (let s = 0; s < cap; s++) init[2 * s + 1] = 0xffffffff;
    const next = this.gpu.upload(init, [2 * cap], 'finite.counter');
    if (this.counter) {
      this.gpu.copy(this.counter, 0, next, 0, 2 * this.capacity);
      this.counter.destroy();
    }
    this.counter = next;
    this.capacity = cap;
  }

  /** The items with non-finite values (empty when all were finite). Resets the check. */
  async read(): Promise<NonFinite[]> {
    const counter = this.counter;
    const items = this.items;
    const bad: NonFinite[] = this.found;
    this.counter = null;
    this.items = [];
    this.found = [];
    this.slots.clear();
    this.capacity = 0;
    if (!counter) return bad;
    try {
      const c = (await this.gpu.read(counter, 0, 2 * items.length)) as Uint32Array;
      items.forEach((it, s) => {
        if (c[2 * s] > 0) bad.push({ what: it.what, count: c[2 * s], first: c[2 * s + 1], ...(it.cols ? { cols: it.cols } : {}) });
      });
      return bad;
    } finally {
      counter.destroy();
    }
  }

  /** Frees the counter without reading it (error paths). */
  dispose(): void {
    this.counter?.destroy();
    this.counter = null;
    this.items = [];
    this.found = [];
    this.slots.clear();
    this.capacity = 0;
  }
}

/** Non-finite count and first index of 16-bit floats (their bits): exponent all ones. */
export function nonFinite16(bits: Uint16Array, format: 'f16' | 'bf16'): { count: number; first: number } {
  const mask = format === 'f16' ? 0x7c00 : 0x7f80;
  let count = 0;
  let first = -1;
  for (let i = 0; i < bits.length; i++) {
    if ((bits[i] & mask) === mask) {
      if (first < 0) first = i;
      count++;
    }
  }
  return { count, first };
}
