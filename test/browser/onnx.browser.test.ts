/**
 * onnxruntime-web in headless Chromium on PolyPrune's ONNX export: the stories260K fixture is pruned
 * (Wanda 50 %, reference windows) in Node and exported as HF and ONNX; the page loads the HF export
 * in the app's worker engine (WGSL on SwiftShader) and the ONNX export in onnxruntime-web's wasm
 * backend (and its WebGPU backend where this adapter allows it). Logits must agree within 1e-4 of
 * the largest logit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StaticServer } from '../helpers/httpServer';
import { FIXTURE, requireShared, fixtureWindows } from '../helpers/fixture';
import { ORT_DIST, runOrtInPage } from '../helpers/ortPage';
import { fixtureEngine } from '../helpers/engine';
import { relMaxErr } from '../helpers/gpu';
import { nodeOutputSink } from '../../src/export/node';
import { openWithEngine, type Browser } from './chromium';
import { DIST, serveApp } from './standIn';

let server: StaticServer;
let browser: Browser;
let tmp: string;

beforeAll(async () => {
  requireShared(path.join(DIST, 'index.html'));
  requireShared(FIXTURE);
  tmp = mkdtempSync(path.join(tmpdir(), 'polyprune-ortweb-'));
  const { engine, base } = await fixtureEngine();
  try {
    const res = await engine.prune(base.id, { method: 'wanda', sparsity: 0.5, calibration: { windows: await fixtureWindows('calib-en.safetensors') } });
    await engine.exportTo(res.model.id, await nodeOutputSink(path.join(tmp, 'hf')), { format: 'hf' });
    await engine.exportTo(res.model.id, await nodeOutputSink(path.join(tmp, 'onnx')), { format: 'onnx', onnxVariants: ['fp32'] });
  } finally {
    await engine.dispose();
  }
  server = await serveApp({ '/exports/': tmp, '/ort/': ORT_DIST });
  browser = await openWithEngine(`${server.url}/?test=1`);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('onnxruntime-web in Chromium', () => {
  it('wasm (and WebGPU where the adapter allows) give the logits of PolyPrune\'s WGSL forward within 1e-4', async () => {
    const ids = Array.from((await fixtureWindows('eval-en.safetensors')).ids.slice(0, 48));
    const ours = await browser.page.evaluate(
      async ({ url, ids }) => {
        const engine = window.polyprune!.engine;
        const m = await engine.loadModel({ kind: 'url', url });
        const l = await engine.logits(m.id, new Int32Array(ids));
        return { logits: Array.from(l), pruning: m.pruning ?? null };
      },
      { url: `${server.url}/exports/hf/`, ids },
    );
    expect(ours.pruning).toMatchObject({ method: 'wanda', structure: 'unstructured', sparsityRatio: 0.5 });
    const common = { ortBase: `${server.url}/ort`, model: `${server.url}/exports/onnx/onnx/model.onnx`, ids, layers: 5, kvHeads: 4, headDim: 8 };
    const wasm = await runOrtInPage(browser.page, { ...common, ep: 'wasm' });
    expect(wasm.error, browser.log.join('\n')).toBeNull();
    const eWasm = relMaxErr(wasm.logits!, ours.logits);
    const webgpu = await runOrtInPage(browser.page, { ...common, ep: 'webgpu' });
    const eGpu = webgpu.logits ? relMaxErr(webgpu.logits, ours.logits) : null;
    console.log(`onnxruntime-web vs PolyPrune (WGSL, SwiftShader) logits, max abs error / max |logit|: wasm ${eWasm.toExponential(2)}, webgpu ${eGpu === null ? `not run: ${webgpu.error}` : eGpu.toExponential(2)}`);
    expect(eWasm).toBeLessThan(1e-4);
    if (eGpu !== null) expect(eGpu).toBeLessThan(1e-4);
  });
});
