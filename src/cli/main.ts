/**
 * `polyprune` command line: the same engine as the web app, headless on Dawn (npm `webgpu`).
 */
import { Command, InvalidArgumentError } from 'commander';
import { PolyPruneError } from '../common/errors';
import { escapeControls } from '../common/text';
import { VERSION } from '../common/version';
import { nodeGpu } from '../gpu/node';
import { parseSubmitBudget, type ModelSpec, type ModelSummary, type OpOptions, type PruneRequest, type PruneResult } from '../engine';
import { LocalEngine } from '../engine/local';
import { checkedDirFolder, nodeSpill } from '../io/node';
import { isHubId } from '../io/hub';
import { existsSync, writeFileSync } from 'node:fs';
import { progressPrinter } from './progress';
import { registerPpl } from './ppl';
import { registerGenerate } from './generate';
import { registerEval } from './evalTask';
import { registerPrune } from './prune';
import { registerQuantize } from './quantize';
import { registerGrid } from './grid';
import { registerMix } from './mix';
import { registerShare } from './share';
import { registerExport, describePruning } from './export';
import { cancelExitCode, cliSignal, installCancel } from './cancel';
import { DEFAULT_MIN_RATE_BYTES_PER_S } from '../io/limits';
import { registerCompare } from './compare';


export function modelSpec(model: string): ModelSpec {
  // A Hugging Face id (org/name[@rev], hf:org/name) unless a local folder of that name exists.
  if (isHubId(model) && (model.startsWith('hf:') || model.startsWith('https://huggingface.co/') || !existsSync(model))) {
    return { kind: 'hub', id: model, token: process.env.HF_TOKEN || undefined, endpoint: process.env.HF_ENDPOINT || undefined };
  }
  if (/^https?:\/\//i.test(model)) return { kind: 'url', url: model.endsWith('/') ? model : `${model}/` };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(model);
  if (scheme) throw new PolyPruneError('BAD_ARGUMENT', `--model ${model}: '${scheme[1]}://' URLs are not supported; give a local folder or an http(s):// URL.`);
  if (model.trim() === '') throw new PolyPruneError('BAD_ARGUMENT', '--model is empty; give a model folder or an http(s):// URL.');
  return { kind: 'folder', folder: checkedDirFolder(model) };
}

/** Settings of the global options (set before a command runs). */
const cliSettings = { stallTimeoutMs: undefined as number | undefined, minRate: undefined as number | undefined, gpuSubmitBudget: undefined as number | undefined, loseDeviceAfterSubmits: undefined as number | undefined, spillAbove: undefined as number | undefined };

/** --stall-timeout in milliseconds (undefined: the default). */
export function cliStallTimeoutMs(): number | undefined {
  return cliSettings.stallTimeoutMs;
}

/** --min-rate in bytes per second (undefined: the default). */
export function cliMinRate(): number | undefined {
  return cliSettings.minRate;
}

/** The engine with the CLI's habits: load warnings printed on stderr (stdout stays clean for --json). */
class CliEngine extends LocalEngine {
  /** Every operation (model loading and its downloads included) also stops at Ctrl-C / SIGTERM. */
  protected override op<T>(opts: OpOptions | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return super.op(opts, (signal) => fn(AbortSignal.any([signal, cliSignal()])));
  }

  /**
   * With POLYPRUNE_GPU_STATS_FILE set (benchmarks: tools/size-ladder), the engine's peak GPU bytes and
   * submit counts are written there as JSON when the command ends.
   */
  override async dispose(): Promise<void> {
    const file = process.env.POLYPRUNE_GPU_STATS_FILE;
    const stats = file ? await this.gpuStats() : null;
    await super.dispose();
    if (file && stats) writeFileSync(file, JSON.stringify(stats));
  }

  override async prune(id: string, req: PruneRequest, opts?: OpOptions): Promise<PruneResult> {
    const r = await super.prune(id, req, opts);
    for (const w of r.model.warnings ?? []) process.stderr.write(`polyprune: warning: ${w}\n`);
    return r;
  }

  override async loadModel(spec: ModelSpec, opts?: OpOptions): Promise<ModelSummary> {
    const s = await super.loadModel(spec, opts);
    for (const w of s.warnings ?? []) process.stderr.write(`polyprune: warning: ${w}\n`);
    return s;
  }
}

export function createEngine(): LocalEngine {
  return new CliEngine({ gpu: nodeGpu, politeWait: true, stallTimeoutMs: cliSettings.stallTimeoutMs, minRateBytesPerS: cliSettings.minRate, gpuSubmitBudget: cliSettings.gpuSubmitBudget, loseDeviceAfterSubmits: cliSettings.loseDeviceAfterSubmits, spill: nodeSpill(), spillPrunedAboveBytes: cliSettings.spillAbove });
}

function parseRate(v: string): number {
  const n = Number(v);
  if (!(n >= 0 && Number.isFinite(n))) throw new InvalidArgumentError(`--min-rate must be a number of bytes per second >= 0 (got '${v}').`);
  return n;
}

function parseBudget(v: string): number {
  try {
    return parseSubmitBudget(v, '--gpu-submit-budget');
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

function parseSpillAbove(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !(n >= 0 && Number.isFinite(n))) throw new InvalidArgumentError(`--spill-above must be a number of bytes >= 0 (got '${v}'), e.g. 1e9; 0 spills every pruned model.`);
  return n;
}

function parseSeconds(v: string): number {
  const n = Number(v);
  if (!(n >= 0 && Number.isFinite(n))) throw new InvalidArgumentError(`--stall-timeout must be a number of seconds >= 0 (got '${v}').`);
  return n;
}

export function parseIntArg(name: string, min = 1) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min} (got '${v}').`);
    return n;
  };
}

/** Echo of what was typed, with control characters escaped (for messages). */
export function typed(v: string): string {
  return `'${escapeControls(v)}'`;
}

/**
 * A seed: a whole number from 0 to 2^53 - 1 (Number.MAX_SAFE_INTEGER; Python's `random.seed`
 * takes any integer, but larger ones cannot be held exactly here), echoing what was typed.
 */
export function parseSeed(flag: string, v: string): number {
  const t = v.trim();
  if (!/^\d+$/.test(t)) throw new PolyPruneError('BAD_ARGUMENT', `${flag} ${typed(v)} is not a seed: give a whole number from 0 to ${Number.MAX_SAFE_INTEGER} (2^53 - 1), e.g. ${flag} 0.`);
  if (BigInt(t) > BigInt(Number.MAX_SAFE_INTEGER)) throw new PolyPruneError('BAD_ARGUMENT', `${flag} ${typed(v)} is too large: seeds go up to ${Number.MAX_SAFE_INTEGER} (2^53 - 1, the largest integer held exactly).`);
  return Number(t);
}

/** A commander parser for a seed option. */
export function seedArg(flag: string) {
  return (v: string): number => parseSeed(flag, v);
}

function fmtCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

export function describeModel(s: ModelSummary): string {
  return [
    `model          ${s.name} (${s.localPath ?? s.source})`,
    `type           ${s.modelType}`,
    `layers         ${s.numLayers}`,
    `hidden size    ${s.hiddenSize}`,
    `ffn size       ${s.intermediateSize}`,
    `heads          ${s.numHeads} (head dim ${s.headDim})`,
    `kv heads       ${s.numKvHeads}`,
    `vocab          ${s.vocabSize}`,
    `context        ${s.maxPositionEmbeddings}`,
    `tied head      ${s.tieWordEmbeddings}`,
    `parameters     ${fmtCount(s.parameters)} (${s.parameters})`,
    `dtype          ${s.dtype}`,
    `bytes          ${s.checkpointBytes}`,
  ].join('\n');
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('polyprune')
    .description('Prune multilingual language models with per-language calibration, on WebGPU (Dawn in Node).')
    .version(VERSION)
    .option('--stall-timeout <seconds>', 'fail a download that receives no data for this long (0 = never)', parseSeconds, 30)
    .option('--min-rate <bytes/s>', `fail a download slower than this on average over a --stall-timeout span (0 = no minimum)`, parseRate, DEFAULT_MIN_RATE_BYTES_PER_S)
    .option('--gpu-submit-budget <flops>', 'most GPU work per submitted command buffer, in flops (default 1e12: a 2 TFLOP/s GPU for 0.5 s; docs/models.md)', parseBudget)
    .option('--spill-above <bytes>', 'keep pruned matrices above this many bytes in a temporary file (os.tmpdir(), TMPDIR) instead of memory (default 1 GiB; 0 = always)', parseSpillAbove)
    .hook('preAction', (cmd) => {
      const o = cmd.opts<{ stallTimeout?: number; minRate?: number; gpuSubmitBudget?: number; spillAbove?: number }>();
      cliSettings.spillAbove = o.spillAbove;
      cliSettings.stallTimeoutMs = o.stallTimeout === undefined ? undefined : o.stallTimeout * 1000;
      cliSettings.minRate = o.minRate;
      cliSettings.gpuSubmitBudget = o.gpuSubmitBudget;
      // Fault injection for tests (a GPU reset mid-run): lose the device after this many submits.
      const lose = process.env.POLYPRUNE_TEST_LOSE_DEVICE_AFTER_SUBMITS;
      cliSettings.loseDeviceAfterSubmits = lose ? Number(lose) : undefined;
    });

  program
    .command('info')
    .description('Print a model\'s architecture (loads it on the GPU to check it).')
    .requiredOption('-m, --model <dir|url>', 'model folder or URL (Hugging Face layout: config.json, model.safetensors, tokenizer.json)')
    .option('--json', 'print JSON')
    .action(async (o: { model: string; json?: boolean }) => {
      const engine = createEngine();
      try {
        const s = await engine.loadModel(modelSpec(o.model), { onProgress: o.json ? undefined : progressPrinter() });
        const gpu = await engine.gpuInfo();
        if (o.json) console.log(JSON.stringify({ ...s, adapter: gpu.description }, null, 2));
        else console.log(`${describeModel(s)}\nadapter        ${gpu.description}${s.pruning ? `\n${describePruning(s)}` : ''}`);
      } finally {
        await engine.dispose();
      }
    });

  registerPpl(program);
  registerPrune(program);
  registerQuantize(program);
  registerEval(program);
  registerGrid(program);
  registerMix(program);
  registerShare(program);
  registerExport(program);
  registerCompare(program);
  registerGenerate(program);
  // An option error prints one line and where to look, not the whole help.
  program.showHelpAfterError('hint: polyprune --help');
  for (const c of program.commands) c.showHelpAfterError(`hint: polyprune ${c.name()} --help`);
  return program;
}

export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  const uninstall = installCancel();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    const err = e as { code?: string; exitCode?: number; message?: string; name?: string };
    if (typeof err.code === 'string' && err.code.startsWith('commander.')) {
      return err.exitCode ?? 1;
    }
    const cancelled = cancelExitCode();
    if (cancelled !== null && (err.name === 'AbortError' || err.code === 'CANCELLED' || !(e instanceof PolyPruneError))) {
      console.error(`polyprune: ${err.code === 'CANCELLED' && err.message ? err.message : 'Cancelled; nothing was written.'}`);
      return cancelled;
    }
    if (e instanceof PolyPruneError && e.code === 'CANCELLED') {
      console.error(`polyprune: ${e.message}`);
      return 130;
    }
    if (e instanceof PolyPruneError) {
      console.error(`polyprune: ${e.message}`);
      return e.code === 'BAD_ARGUMENT' || e.code === 'RECORD_NEWER' || e.code === 'OUTPUT_EXISTS' ? 2 : 1;
    }
    console.error(`polyprune: unexpected error: ${(e as Error)?.stack ?? String(e)}`);
    return 1;
  } finally {
    uninstall();
  }
}
