/**
 * The only place that acquires a GPUDevice. Wraps it with: the limits the adapter offers, optional
 * features, typed errors (validation, out-of-memory, device loss), tensor allocation, a pipeline cache,
 * batched dispatch and readback.
 */
import { fmtBytes } from '../common/format';
import { PolyPruneError } from '../common/errors';
import { DEFAULT_SUBMIT_BUDGET, parseSubmitBudget } from '../common/budget';
import { shaderSource } from './shaders';

export { DEFAULT_SUBMIT_BUDGET, parseSubmitBudget } from '../common/budget';

/** Limits we raise to what the adapter offers (defaults are far too small for model weights). */
const RAISED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

export type DType = 'f32' | 'i32' | 'u32';

export interface GpuInfo {
  description: string;
  features: { shaderF16: boolean; subgroups: boolean; timestampQuery: boolean };
  /**
   * The adapter runs on the CPU (Mesa lavapipe/llvmpipe, SwiftShader, or the browser's fallback
   * adapter): kernels that choose their shape by it (ops.matvecShape) avoid workgroup barriers there.
   */
  cpu: boolean;
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number; maxComputeWorkgroupStorageSize: number; maxComputeWorkgroupsPerDimension: number; maxComputeInvocationsPerWorkgroup: number };
}

/** A GPU buffer with a shape. Elements are 4 bytes (f32, i32 or u32). */
export class Tensor {
  private destroyed = false;
  constructor(
    readonly gpu: Gpu,
    readonly buffer: GPUBuffer,
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly label: string,
  ) {}
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  get byteLength(): number {
    return this.numel * 4;
  }
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.gpu.release(this);
  }
  get isDestroyed(): boolean {
    return this.destroyed;
  }
}

export type Binding = Tensor | { tensor: Tensor; offsetElems: number; numElems: number };

export type ParamField = ['u32' | 'i32' | 'f32', number];
export const u32 = (v: number): ParamField => ['u32', v];
export const i32 = (v: number): ParamField => ['i32', v];
export const f32 = (v: number): ParamField => ['f32', v];

/**
 * Work of one dispatch, for the per-submit budget: arithmetic (flops) and memory traffic (bytes).
 * Estimates from the kernel's shape (src/gpu/ops.ts, src/gpu/prune.ts), not measurements.
 */
export interface Work {
  flops: number;
  bytes: number;
}

/** A byte of memory traffic counts as this many flops (2 TFLOP/s over 100 GB/s of memory bandwidth). */
export const FLOPS_PER_BYTE = 20;

/** Flop-equivalents of a dispatch's work. */
export function workCost(w: Work): number {
  return w.flops + FLOPS_PER_BYTE * w.bytes;
}

export interface DispatchArgs {
  /** Uniform `Params` struct at binding 0: 4-byte fields in declaration order. */
  params?: ParamField[];
  /** Storage bindings 1..n in order. */
  bindings: Binding[];
  workgroups: [number, number?, number?];
  /** Pipeline-overridable constants. */
  constants?: Record<string, number>;
  /**
   * Estimated work of this dispatch (flops and bytes from the kernel's shape), counted against the
   * submit budget. Required, so that no kernel bypasses the budget (docs/models.md, "Work per submit").
   */
  work: Work;
}

interface KernelEntry {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

const UNIFORM_SLOT = 256; // >= minUniformBufferOffsetAlignment on every adapter
const UNIFORM_SLOTS = 512;

export interface GpuOptions {
  /** Optional features to request when the adapter offers them. Default: all useful ones. */
  powerPreference?: GPUPowerPreference;
  /** In Node, sleep between event-loop turns while waiting for the GPU instead of spinning. */
  politeWait?: boolean;
  /**
   * Use at most this many bytes per storage binding and buffer, below what the device offers: bounds
   * memory per allocation, and lets tests act out a small adapter (matrices get split accordingly).
   */
  maxBindingBytes?: number;
  /**
   * Most work (flop-equivalents, see {@link workCost}) recorded into one command buffer before it is
   * submitted; dispatch wrappers also split single dispatches to stay under it where the kernel
   * allows. Default {@link DEFAULT_SUBMIT_BUDGET}.
   */
  submitBudget?: number;
  /**
   * Fault injection for tests: destroy the device (as a driver reset would lose it) when this many
   * command buffers have been submitted.
   */
  loseDeviceAfterSubmits?: number;
}

/** What the per-submit budget did so far (tests and benchmarks). */
export interface SubmitStats {
  submits: number;
  /** Submits made because the next dispatch would have taken the command buffer over the budget. */
  budgetSubmits: number;
  /** Largest work of one submitted command buffer (flop-equivalents). */
  maxSubmitWork: number;
  /** Single dispatches (or buffer copies) above the budget that could not be split further, each submitted alone. */
  oversizedDispatches: number;
  /** Dispatches that a wrapper split into several to stay under the budget. */
  splitDispatches: number;
}

/** Whether an adapter is a CPU (software) implementation: the fallback adapter, or one named as such. */
function isCpuAdapter(adapter: GPUAdapter): boolean {
  const a = adapter as GPUAdapter & { isFallbackAdapter?: boolean; info?: GPUAdapterInfo & { isFallbackAdapter?: boolean } };
  if (a.isFallbackAdapter || a.info?.isFallbackAdapter) return true;
  const i = a.info;
  return /llvmpipe|lavapipe|swiftshader|software/i.test([i?.vendor, i?.architecture, i?.device, i?.description].join(' '));
}

export class Gpu {
  private kernels = new Map<string, KernelEntry>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private uniform: GPUBuffer | null = null;
  private uniformData = new ArrayBuffer(UNIFORM_SLOT * UNIFORM_SLOTS);
  private uniformUsed = 0;
  private retired: GPUBuffer[] = [];
  private firstError: PolyPruneError | null = null;
  private pendingChecks: Promise<void>[] = [];
  private lostInfo: GPUDeviceLostInfo | null = null;
  private liveBytes = 0;
  private peakBytes = 0;
  private liveTensors = 0;
  private pendingWork = 0;
  private submitStats: SubmitStats = { submits: 0, budgetSubmits: 0, maxSubmitWork: 0, oversizedDispatches: 0, splitDispatches: 0 };
  private dispatchCount = new Map<string, number>();
  /** Most work per submit (flop-equivalents). */
  readonly submitBudget: number;
  readonly info: GpuInfo;
  readonly lost: Promise<GPUDeviceLostInfo>;
  /** Rejects with GPU_DEVICE_LOST when the device is lost (handled once here, raced by every wait). */
  private readonly lostError: Promise<never>;

  private constructor(
    readonly device: GPUDevice,
    adapter: GPUAdapter,
    private readonly options: GpuOptions,
  ) {
    this.submitBudget = options.submitBudget === undefined ? DEFAULT_SUBMIT_BUDGET : parseSubmitBudget(options.submitBudget);
    const f = device.features;
    const ai = adapter.info;
    this.info = {
      description: [ai?.vendor, ai?.architecture, ai?.device, ai?.description].filter((s) => s).join(' ') || 'unknown adapter',
      features: { shaderF16: f.has('shader-f16'), subgroups: f.has('subgroups'), timestampQuery: f.has('timestamp-query') },
      cpu: isCpuAdapter(adapter),
      limits: {
        maxStorageBufferBindingSize: Math.min(device.limits.maxStorageBufferBindingSize, options.maxBindingBytes ?? Infinity),
        maxBufferSize: Math.min(device.limits.maxBufferSize, options.maxBindingBytes ?? Infinity),
        maxComputeWorkgroupStorageSize: device.limits.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
        maxComputeInvocationsPerWorkgroup: device.limits.maxComputeInvocationsPerWorkgroup,
      },
    };
    device.addEventListener('uncapturederror', (ev) => {
      const err = (ev as GPUUncapturedErrorEvent).error;
      if (!this.firstError) this.firstError = toTypedError(err, 'GPU');
    });
    this.lost = device.lost.then((info) => {
      this.lostInfo = info;
      return info;
    });
    this.lostError = this.lost.then(() => this.throwLost());
    this.lostError.catch(() => undefined);
  }

  /** Acquire an adapter and device from `gpu` (navigator.gpu in the browser, nodeGpu() in Node). */
  static async create(gpu: GPU | undefined, options: GpuOptions = {}): Promise<Gpu> {
    if (options.submitBudget !== undefined) parseSubmitBudget(options.submitBudget);
    if (!gpu) {
      throw new PolyPruneError(
        'GPU_UNAVAILABLE',
        'WebGPU is not available here (navigator.gpu is missing). Use a browser with WebGPU enabled (Chrome/Edge 113+, or Firefox/Safari with WebGPU turned on), served over https or localhost.',
      );
    }
    const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
    if (!adapter) {
      throw new PolyPruneError('GPU_UNAVAILABLE', !(typeof process !== 'undefined' && process.versions?.node)
          ? 'WebGPU is present but the browser offers no GPU adapter. Turn on hardware acceleration in the browser settings (chrome://gpu shows WebGPU\'s status), update the graphics driver, or try another browser.'
          : 'WebGPU is present but no GPU adapter was found. Install a Vulkan driver (on Debian: mesa-vulkan-drivers from bookworm-backports for a software adapter) or run on a machine with a GPU.');
    }
    const requiredLimits: Record<string, number> = {};
    for (const k of RAISED_LIMITS) {
      const v = (adapter.limits as unknown as Record<string, number>)[k];
      if (typeof v === 'number') requiredLimits[k] = v;
    }

    const wanted: GPUFeatureName[] = ['shader-f16', 'subgroups', 'timestamp-query'];
    const requiredFeatures = wanted.filter((f) => adapter.features.has(f));
    let device: GPUDevice;
    try {
      device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
    } catch (e) {
      throw new PolyPruneError('GPU_UNAVAILABLE', `The GPU adapter refused to create a device: ${(e as Error).message}`);
    }
    return new Gpu(device, adapter, options);
  }

  /** Throw if the model needs bindings bigger than this adapter allows. */
  requireBinding(bytes: number, what: string): void {
    if (bytes > this.info.limits.maxBufferSize) {
      throw new PolyPruneError(
        'GPU_LIMITS',
        `${what} needs a ${fmtBytes(bytes)} GPU buffer but this adapter allows at most ${fmtBytes(this.info.limits.maxBufferSize)} per buffer (maxStorageBufferBindingSize ${fmtBytes(this.info.limits.maxStorageBufferBindingSize)}). Use a smaller model or a GPU with larger limits.`,
      );
    }
  }

  // ---------------------------------------------------------------- tensors

  tensor(shape: readonly number[], dtype: DType = 'f32', label = 'tensor'): Tensor {
    this.checkAlive();
    const numel = shape.reduce((a, b) => a * b, 1);
    const size = Math.max(16, Math.ceil((numel * 4) / 16) * 16);
    this.requireBinding(size, label);
    const buffer = this.device.createBuffer({
      label,
      size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    this.liveBytes += size;
    this.liveTensors++;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
    return new Tensor(this, buffer, [...shape], dtype, label);
  }

  /** Upload typed data into a new tensor. */
  upload(data: Float32Array | Int32Array | Uint32Array, shape: readonly number[], label = 'upload'): Tensor {
    const dtype: DType = data instanceof Float32Array ? 'f32' : data instanceof Int32Array ? 'i32' : 'u32';
    const t = this.tensor(shape, dtype, label);
    if (data.length !== t.numel) throw new PolyPruneError('INTERNAL', `upload ${label}: ${data.length} elements for shape [${shape}]`);
    this.write(t, data);
    return t;
  }

  /** Write data into a tensor at an element offset (ordered before later dispatches). */
  write(t: Tensor, data: ArrayBufferView, offsetElems = 0): void {
    // queue.writeBuffer runs at the next submit, before that submit's commands: flush recorded work first
    // so the write cannot overtake dispatches that were recorded earlier.
    if (this.encoder) this.flush();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const aligned = bytes.byteLength % 4 === 0 ? bytes : padTo4(bytes);
    this.device.queue.writeBuffer(t.buffer, offsetElems * 4, aligned as Uint8Array<ArrayBuffer>, 0, aligned.byteLength);
  }

  /** Raw bytes (any length, padded to 4) into a new u32 tensor; used for f16/bf16 uploads. */
  uploadBytes(bytes: Uint8Array, label = 'bytes'): Tensor {
    const words = Math.ceil(bytes.byteLength / 4);
    const t = this.tensor([words], 'u32', label);
    if (this.encoder) this.flush();
    const aligned = bytes.byteLength % 4 === 0 ? bytes : padTo4(bytes);
    this.device.queue.writeBuffer(t.buffer, 0, aligned as Uint8Array<ArrayBuffer>, 0, aligned.byteLength);
    return t;
  }

  release(t: Tensor): void {
    this.liveBytes -= t.buffer.size;
    this.liveTensors--;
    // A buffer may still be referenced by recorded-but-unsubmitted commands: destroy after submit.
    if (this.encoder) this.retired.push(t.buffer);
    else t.buffer.destroy();
  }

  memory(): { liveBytes: number; peakBytes: number; liveTensors: number } {
    return { liveBytes: this.liveBytes, peakBytes: this.peakBytes, liveTensors: this.liveTensors };
  }

  /** A dispatch wrapper split one dispatch into several for the budget (counted in submits()). */
  noteSplit(): void {
    this.submitStats.splitDispatches++;
  }

  /** Whether the device was lost (a driver reset, or destroyed): nothing runs on it any more. */
  get isLost(): boolean {
    return this.lostInfo !== null;
  }

  /** What the per-submit budget did so far. */
  submits(): SubmitStats {
    return { ...this.submitStats };
  }

  /** Dispatches recorded so far, by kernel name (tests count work with it, e.g. which matmul kernel ran). */
  dispatches(): Record<string, number> {
    return Object.fromEntries(this.dispatchCount);
  }

  resetPeak(): void {
    this.peakBytes = this.liveBytes;
  }

  // ---------------------------------------------------------------- kernels

  private kernel(name: string, nStorage: number, readOnly: boolean[], constants?: Record<string, number>): KernelEntry {
    const vec4 = /swiftshader/i.test(this.info.description);
    const key = `${name}|${readOnly.map((r) => (r ? 'r' : 'w')).join('')}|${constants ? JSON.stringify(constants) : ''}|${vec4 ? 'v4' : ''}`;
    const hit = this.kernels.get(key);
    if (hit) return hit;
    const code = shaderSource(name);
    // gemm_core's loop form for this adapter's compiler (shaders/common/gemm_core.wgsl).
    if (code.includes('override GEMM_VEC4')) constants = { ...constants, GEMM_VEC4: vec4 ? 1 : 0 };
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ label: name, code });
    const entries: GPUBindGroupLayoutEntry[] = [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } }];
    for (let i = 0; i < nStorage; i++) {
      entries.push({ binding: i + 1, visibility: GPUShaderStage.COMPUTE, buffer: { type: readOnly[i] ? 'read-only-storage' : 'storage' } });
    }
    const layout = this.device.createBindGroupLayout({ label: name, entries });
    const pipeline = this.device.createComputePipeline({
      label: name,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main', constants },
    });
    const entry = { pipeline, layout };
    this.kernels.set(key, entry);
    const scope = this.device.popErrorScope();
    this.pendingChecks.push(scope.then(async (err) => {
      // A broken pipeline also makes every later submit fail; the build error is the root cause.
      if (!err || (this.firstError && this.firstError.code !== 'GPU_VALIDATION')) return;
      let details = '';
      try {
        const ci = await module.getCompilationInfo();
        details = ci.messages.map((m) => `shaders/${name}.wgsl:${m.lineNum}:${m.linePos} ${m.type}: ${m.message}`).join('\n');
      } catch {
        /* compilation info is optional */
      }
      this.firstError = new PolyPruneError('SHADER_COMPILE', `Kernel shaders/${name}.wgsl failed to build: ${err.message}${details ? '\n' + details : ''}`);
    }));
    return entry;
  }

  /**
   * Record one dispatch of `shaders/<name>.wgsl`. Binding 0 is the uniform Params struct; storage
   * bindings follow in order. `readOnly[i]` says whether storage binding i+1 is declared `read`.
   */
  dispatch(name: string, readOnly: boolean[], args: DispatchArgs): void {
    this.checkAlive();
    if (readOnly.length !== args.bindings.length) throw new PolyPruneError('INTERNAL', `dispatch ${name}: ${args.bindings.length} bindings, layout has ${readOnly.length}`);
    const [x, y = 1, z = 1] = args.workgroups;
    const maxWg = this.info.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxWg || y > maxWg || z > maxWg) throw new PolyPruneError('GPU_LIMITS', `dispatch ${name}: grid ${x}x${y}x${z} exceeds ${maxWg} workgroups per dimension`);
    if (x === 0 || y === 0 || z === 0) return;
    const k = this.kernel(name, args.bindings.length, readOnly, args.constants);
    this.dispatchCount.set(name, (this.dispatchCount.get(name) ?? 0) + 1);
    if (this.uniformUsed >= UNIFORM_SLOTS) this.flush();
    this.account(workCost(args.work));
    if (!this.encoder) this.begin();
    const slot = this.uniformUsed++;
    writeParams(new DataView(this.uniformData, slot * UNIFORM_SLOT, UNIFORM_SLOT), args.params);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.uniform!, offset: slot * UNIFORM_SLOT, size: UNIFORM_SLOT } }];
    args.bindings.forEach((b, i) => {
      if (b instanceof Tensor) {
        if (b.isDestroyed) throw new PolyPruneError('INTERNAL', `dispatch ${name}: binding ${i + 1} (${b.label}) was destroyed`);
        entries.push({ binding: i + 1, resource: { buffer: b.buffer } });
      } else {
        entries.push({ binding: i + 1, resource: { buffer: b.tensor.buffer, offset: b.offsetElems * 4, size: Math.max(4, b.numElems * 4) } });
      }
    });
    const bg = this.device.createBindGroup({ layout: k.layout, entries });
    this.pass!.setPipeline(k.pipeline);
    this.pass!.setBindGroup(0, bg);
    this.pass!.dispatchWorkgroups(x, y, z);
  }

  /**
   * Count `cost` flop-equivalents into the command buffer being recorded: submit what is recorded
   * first when the cost would take it over the budget.
   */
  private account(cost: number): void {
    if (this.encoder && this.pendingWork > 0 && this.pendingWork + cost > this.submitBudget) {
      this.submitStats.budgetSubmits++;
      this.flush();
    }
    if (cost > this.submitBudget) this.submitStats.oversizedDispatches++;
    this.pendingWork += cost;
  }

  /** Copy elements between tensors (recorded in order with dispatches; counted as read + write traffic). */
  copy(src: Tensor, srcOffsetElems: number, dst: Tensor, dstOffsetElems: number, numElems: number): void {
    this.account(workCost({ flops: 0, bytes: 8 * numElems }));
    if (!this.encoder) this.begin();
    this.pass!.end();
    this.encoder!.copyBufferToBuffer(src.buffer, srcOffsetElems * 4, dst.buffer, dstOffsetElems * 4, numElems * 4);
    this.pass = this.encoder!.beginComputePass();
  }

  private begin(): void {
    this.encoder = this.device.createCommandEncoder();
    this.pass = this.encoder.beginComputePass();
    this.uniform = this.device.createBuffer({ size: UNIFORM_SLOT * UNIFORM_SLOTS, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.uniformUsed = 0;
  }

  /** Submit everything recorded so far. */
  flush(): void {
    if (!this.encoder) return;
    this.pass!.end();
    this.device.queue.writeBuffer(this.uniform!, 0, this.uniformData, 0, this.uniformUsed * UNIFORM_SLOT);
    this.device.queue.submit([this.encoder.finish()]);
    this.submitStats.submits++;
    this.submitStats.maxSubmitWork = Math.max(this.submitStats.maxSubmitWork, this.pendingWork);
    this.pendingWork = 0;
    if (this.options.loseDeviceAfterSubmits !== undefined && this.submitStats.submits >= this.options.loseDeviceAfterSubmits) this.device.destroy();
    this.uniform!.destroy();
    for (const b of this.retired) b.destroy();
    this.retired = [];
    this.encoder = null;
    this.pass = null;
    this.uniform = null;
  }

  /** Wait until the GPU has finished all submitted work; throws the first GPU error seen. */
  async sync(): Promise<void> {
    this.flush();
    await this.wait(this.device.queue.onSubmittedWorkDone());
    await this.throwPending();
  }

  /** Read a tensor (or a range of it) back to the CPU. */
  async read(t: Tensor, offsetElems = 0, numElems = t.numel - offsetElems): Promise<Float32Array | Int32Array | Uint32Array> {
    const bytes = await this.readBytes(t.buffer, offsetElems * 4, numElems * 4);
    if (t.dtype === 'f32') return new Float32Array(bytes);
    if (t.dtype === 'i32') return new Int32Array(bytes);
    return new Uint32Array(bytes);
  }

  async readF32(t: Tensor, offsetElems = 0, numElems = t.numel - offsetElems): Promise<Float32Array> {
    return new Float32Array(await this.readBytes(t.buffer, offsetElems * 4, numElems * 4));
  }

  private async readBytes(buffer: GPUBuffer, offset: number, size: number): Promise<ArrayBuffer> {
    this.checkAlive();
    const padded = Math.max(4, Math.ceil(size / 4) * 4);
    const staging = this.device.createBuffer({ size: padded, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    if (!this.encoder) this.begin();
    this.pass!.end();
    this.encoder!.copyBufferToBuffer(buffer, offset, staging, 0, padded);
    this.pass = this.encoder!.beginComputePass();
    this.flush();
    try {
      await this.wait(staging.mapAsync(GPUMapMode.READ));
      await this.throwPending();
      return staging.getMappedRange().slice(0, size);
    } catch (e) {
      await this.throwPending();
      if (this.lostInfo) this.checkAlive();
      throw e;
    } finally {
      staging.destroy();
    }
  }

  /**
   * Await a GPU promise. In Node, Dawn resolves promises by polling from the event loop; a bare await
   * spins a core that the (software) driver needs, so we sleep briefly between event-loop turns.
   */
  private async wait<T>(awaited: Promise<T>): Promise<T> {
    // A lost device may leave GPU promises pending for ever: the loss ends the wait (never a hang).
    const p = Promise.race([awaited, this.lostError]);
    if (!this.options.politeWait) return p;
    let done = false;
    const guarded = p.finally(() => {
      done = true;
    });
    // The loop below notices a settled promise only at its next turn: mark a rejection handled now
    // (the caller still receives it through the return).
    guarded.catch(() => undefined);
    const sab = new Int32Array(new SharedArrayBuffer(4));
    let sleepMs = 0;
    while (!done) {
      await new Promise((r) => setImmediate(r));
      if (done) break;
      if (sleepMs > 0) Atomics.wait(sab, 0, 0, sleepMs);
      sleepMs = Math.min(2, sleepMs + 0.25);
    }
    return guarded;
  }

  private async throwPending(): Promise<void> {
    if (this.pendingChecks.length) {
      const checks = this.pendingChecks;
      this.pendingChecks = [];
      await Promise.all(checks);
    }
    if (this.firstError) {
      const e = this.firstError;
      this.firstError = null;
      throw e;
    }
  }

  private checkAlive(): void {
    if (this.lostInfo) this.throwLost();
  }

  private throwLost(): never {
    const i = this.lostInfo;
    throw new PolyPruneError(
      'GPU_DEVICE_LOST',
      `The GPU device was lost${i ? ` (${i.reason || 'unknown'}${i.message ? `: ${i.message}` : ''})` : ''}, so the run stopped. The driver may have reset the GPU (a command that ran too long, or memory pressure). Run it again on a new device (the command line: the same command; the page: reload the page, where an interrupted experiment is offered for resume)${this.submitBudget < DEFAULT_SUBMIT_BUDGET ? '' : ', and consider a smaller GPU submit budget (--gpu-submit-budget, ?gpuSubmitBudget=)'}.`,
    );
  }

  destroy(): void {
    this.flush();
    this.kernels.clear();
    this.device.destroy();
  }
}

function toTypedError(err: GPUError, where: string): PolyPruneError {
  if (typeof GPUOutOfMemoryError !== 'undefined' && err instanceof GPUOutOfMemoryError) {
    return new PolyPruneError('GPU_OUT_OF_MEMORY', `${where}: the GPU ran out of memory (${err.message}). Use a smaller model, fewer calibration samples or a shorter sequence length.`);
  }
  return new PolyPruneError('GPU_VALIDATION', `${where}: WebGPU validation error: ${err.message}`);
}

function writeParams(view: DataView, params: DispatchArgs['params']): void {
  if (!params) return;
  const fields = params;
  if (fields.length * 4 > UNIFORM_SLOT) throw new PolyPruneError('INTERNAL', `too many params (${fields.length})`);
  fields.forEach(([t, v], i) => {
    if (t === 'u32') view.setUint32(i * 4, v, true);
    else if (t === 'i32') view.setInt32(i * 4, v, true);
    else view.setFloat32(i * 4, v, true);
  });
}

function padTo4(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
  out.set(bytes);
  return out;
}

