/**
 * Forward tokens per second: PolyPrune's WGSL engine against onnxruntime on the same model,
 * exported by PolyPrune as ONNX (fp32), side by side in one run:
 *   Node      PolyPrune (Dawn) vs onnxruntime-node on the CPU
 *   Chromium  PolyPrune (app worker engine) vs onnxruntime-web wasm and WebGPU, same page, same adapter
 * One sequence of T tokens with an empty cache, logits of every position read back by both.
 * The browser part needs the app build (dist/, `npm run build`) and Debian chromium.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalEngine } from '../src/engine/engine';
import { nodeGpu } from '../src/gpu/node';
import { dirFolder } from '../src/io/node';
import { nodeOutputSink } from '../src/export/node';
import type { BenchContext } from './sections';

const T = 128;

function fmt(tokPerS: number): string {
  return `${tokPerS.toFixed(0)} tokens/s`;
}

export async function benchOnnx(ctx: BenchContext): Promise<void> {
  const modelDir = path.resolve('public/models/polyprune-ml');
  const tmp = mkdtempSync(path.join(tmpdir(), 'polyprune-bench-onnx-'));
  const engine = new LocalEngine({ gpu: nodeGpu, politeWait: true });
  try {
    const m = await engine.loadModel({ kind: 'folder', folder: dirFolder(modelDir) });
    await engine.exportTo(m.id, await nodeOutputSink(path.join(tmp, 'onnx')), { format: 'onnx', onnxVariants: ['fp32'] });
    const ids = Int32Array.from({ length: T }, (_, i) => 3 + ((i * 7919) % (m.vocabSize - 3)));
    const label = `polyprune-ml (${(m.parameters / 1e6).toFixed(1)}M params), 1 x ${T} tokens, all logits read back`;

    // Node: WGSL on Dawn vs onnxruntime-node CPU.
    const ourMs = await ctx.timeIt(async () => void (await engine.logits(m.id, ids)), 2000, 20);
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(path.join(tmp, 'onnx/onnx/model.onnx'));
    const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (x) => BigInt(x)), [1, T]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(T).fill(1n), [1, T]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: T }, (_, i) => BigInt(i)), [1, T]),
    };
    for (let i = 0; i < m.numLayers; i++) for (const kv of ['key', 'value']) feeds[`past_key_values.${i}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [1, m.numKvHeads, 0, m.headDim]);
    const ortMs = await ctx.timeIt(async () => void (await session.run(feeds)), 2000, 20);
    await session.release();
    const ours = (T * 1000) / ourMs;
    const theirs = (T * 1000) / ortMs;
    console.log(`forward, Node (${label}): PolyPrune WGSL (Dawn) ${fmt(ours)} | onnxruntime-node CPU ${fmt(theirs)} | ratio PolyPrune/ORT ${(ours / theirs).toFixed(2)}x`);

    // Chromium: the app's worker engine vs onnxruntime-web wasm and WebGPU in the same page.
    const dist = path.resolve('dist');
    if (!existsSync(path.join(dist, 'index.html'))) {
      console.log('forward, Chromium: not measured (no app build in dist/; run `npm run build` first)');
      return;
    }
    const { startStaticServer } = await import('../test/helpers/httpServer');
    const { launchChromium } = await import('../test/browser/chromium');
    const { ORT_DIST, runOrtInPage } = await import('../test/helpers/ortPage');
    const server = await startStaticServer({ '/': dist, '/model/': modelDir, '/exports/': tmp, '/ort/': ORT_DIST });
    const browser = await launchChromium({ webgpu: true });
    try {
      await browser.page.goto(`${server.url}/?test=1`);
      await browser.page.waitForFunction(() => window.polyprune?.engine !== undefined, undefined, { timeout: 60_000 });
      const reps = 5;
      const wgsl = (await browser.page.evaluate(
        `(async (a) => {
          const engine = window.polyprune.engine;
          const m = await engine.loadModel({ kind: 'url', url: a.url });
          const ids = new Int32Array(a.ids);
          await engine.logits(m.id, ids);
          const t0 = performance.now();
          for (let r = 0; r < a.reps; r++) await engine.logits(m.id, ids);
          const ms = (performance.now() - t0) / a.reps;
          await engine.unloadModel(m.id);
          return ms;
        })(${JSON.stringify({ url: `${server.url}/model/`, ids: Array.from(ids), reps })})`,
      )) as number;
      const common = { ortBase: `${server.url}/ort`, model: `${server.url}/exports/onnx/onnx/model.onnx`, ids: Array.from(ids), layers: m.numLayers, kvHeads: m.numKvHeads, headDim: m.headDim, reps, wantLogits: false };
      const wasm = await runOrtInPage(browser.page, { ...common, ep: 'wasm' });
      const webgpu = await runOrtInPage(browser.page, { ...common, ep: 'webgpu' });
      const ourB = (T * 1000) / wgsl;
      const parts = [`PolyPrune WGSL (worker) ${fmt(ourB)}`];
      for (const [name, r] of [['onnxruntime-web wasm (1 thread)', wasm], ['onnxruntime-web WebGPU', webgpu]] as const) {
        if (r.msPerRun === null) parts.push(`${name} not run: ${r.error}`);
        else {
          const tps = (T * 1000) / r.msPerRun;
          parts.push(`${name} ${fmt(tps)} (PolyPrune/ORT ${(ourB / tps).toFixed(2)}x)`);
        }
      }
      const adapter = (await browser.page.evaluate('window.polyprune.engine.gpuInfo().then((g) => g.description)')) as string;
      console.log(`forward, Chromium on ${adapter} (${label}): ${parts.join(' | ')}`);
    } finally {
      await browser.close();
      await server.close();
    }
  } finally {
    await engine.dispose();
    rmSync(tmp, { recursive: true, force: true });
  }
}
