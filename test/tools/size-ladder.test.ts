/**
 * tools/size-ladder on its tiny configuration, so the tool that makes BENCHMARKS.md's size ladder
 * cannot rot: every step runs through the built CLI and is measured; `--page` runs the built app
 * (dist/, npm run build) in Chromium.
 */
import { describe, it, expect } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/shared';

describe('tools/size-ladder', () => {
  it('writes a BF16 random checkpoint with a tokenizer of its vocabulary, runs every step in the CLI and tabulates it', async () => {
    const tmp = await tempDir('polyprune-ladder-');
    try {
      const out = path.join(tmp.dir, 'results.json');
      const table = execFileSync(process.execPath, ['tools/size-ladder/ladder.mjs', '--models', 'tiny', '--work', tmp.dir, '--out', out], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 }).toString();
      const [r] = JSON.parse(readFileSync(out, 'utf8'));
      expect(r.model).toBe('tiny');
      expect(r.refused).toBeUndefined();
      for (const k of ['plan', 'load', 'ppl', 'wanda', 'sparsegpt', 'export']) {
        expect(r.steps[k].ok, `${k}: ${r.steps[k].error}`).toBe(true);
        expect(r.steps[k].seconds).toBeGreaterThan(0);
        expect(r.steps[k].hostPeakBytes).toBeGreaterThan(0);
        expect(r.steps[k].cpuSeconds, k).toBeGreaterThan(0); // the command's own CPU time, beside its wall time
      }
      for (const k of ['load', 'ppl', 'wanda', 'sparsegpt', 'export']) expect(r.steps[k].gpuPeakBytes, k).toBeGreaterThan(0);
      // BF16 weights counted packed by the plan; the engine stays within its estimate
      expect(r.plan.packed).toBe(true);
      expect(r.plan.weightBytes / r.plan.f32WeightBytes).toBeLessThan(0.52);
      expect(r.steps.wanda.gpuPeakBytes).toBeLessThanOrEqual(r.plan.gpuPeakBytes);
      expect(Number.isFinite(r.ppl)).toBe(true);
      expect(table).toMatch(/^\| tiny \(2\) \| 0M \|/m);
      // several results files make one table; a file that is not one is named in one line
      const both = execFileSync(process.execPath, ['tools/size-ladder/ladder.mjs', 'table', out, out]).toString();
      expect(both.match(/^\| tiny \(2\) \| 0M \|/gm)).toHaveLength(2);
      const bad = path.join(tmp.dir, 'not-results.json');
      writeFileSync(bad, '{"model": "tiny"}');
      const r2 = spawnSync(process.execPath, ['tools/size-ladder/ladder.mjs', 'table', out, bad], { encoding: 'utf8' });
      expect(r2.status).toBe(1);
      expect(r2.stderr.trim()).toBe(`ladder: ${bad} is not a results file of this tool (a list of rows with model and steps)`);
    } finally {
      await tmp.remove();
    }
  });

  it('--page: the same checkpoint in the built app in Chromium (worker engine), with the renderer and GPU process memory', async () => {
    const tmp = await tempDir('polyprune-ladder-page-');
    try {
      const out = path.join(tmp.dir, 'results.json');
      // plan, load, perplexity, SparseGPT of one layer and export: the page's plumbing (server, engine
      // hook, process memory, the engine's progress) and a prune against its own plan; Wanda is the
      // CLI's, measured above
      const table = execFileSync(process.execPath, ['tools/size-ladder/ladder.mjs', '--page', '--models', 'tiny', '--steps', 'plan,load,ppl,sparsegpt,export,onnx', '--work', tmp.dir, '--out', out], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 }).toString();
      const [r] = JSON.parse(readFileSync(out, 'utf8'));
      expect(r.runtime).toBe('chromium');
      expect(r.adapter).toMatch(/\S/);
      expect(r.plan.packed).toBe(true);
      // the SparseGPT step's own plan (its 1-layer copy, beside the model the load step left loaded);
      // the engine's peak in that step within it (the page opens with autoload=0: the bundled model
      // is not loaded)
      expect(r.planSparsegpt.gpuPeakBytes).toBeGreaterThan(0);
      expect(r.steps.sparsegpt.gpuPeakBytes).toBeGreaterThan(0);
      expect(r.steps.sparsegpt.gpuPeakBytes).toBeLessThanOrEqual(r.planSparsegpt.gpuPeakBytes);
      for (const k of ['plan', 'load', 'ppl', 'sparsegpt', 'export', 'onnx']) {
        expect(r.steps[k].ok, `${k}: ${r.steps[k].error}`).toBe(true);
        expect(r.steps[k].rendererPeakBytes, k).toBeGreaterThan(0);
        expect(r.steps[k].gpuProcessPeakBytes, k).toBeGreaterThan(0);
        expect(r.steps[k].browserPeakBytes, k).toBeGreaterThan(0);
        // Chromium's CPU seconds over the step (all its processes): what compares under load
        expect(r.steps[k].cpuSeconds, k).toBeGreaterThanOrEqual(0);
      }
      expect(r.steps.load.cpuSeconds).toBeGreaterThan(0);
      // the engine's progress reached the ladder from the page, with the step's second it came at
      expect(r.steps.ppl.progress.at(-1)).toEqual([expect.any(Number), expect.stringMatching(/^eval perplexity .*: windows \(2\/2\)$/)]);
      expect(r.steps.ppl.progress.at(-1)[0]).toBeLessThanOrEqual(r.steps.ppl.seconds + 0.1); // (tenths)
      // the page's HF zip holds the checkpoint (BF16, as loaded)
      expect(r.steps.export.zipBytes).toBeGreaterThan(r.checkpointBytes);
      // (only when named) the ONNX fp16 export as a zip: its weights at 2 bytes each
      expect(r.steps.onnx.zipBytes).toBeGreaterThan(r.checkpointBytes);
      expect(table).toMatch(/^\| tiny \(2\) \| 0M \| 0 MiB \| [\d.]+ cpu \d+ \| [\d.]+ cpu \d+ \| not run \| [\d.]+ \([\d.]+\) cpu \d+ \| [\d.]+ cpu \d+ \| – \| \d+ MiB \| –; 0\.\d\d \|/m);
    } finally {
      await tmp.remove();
    }
  });

  it('--page: a step that runs past --timeout-s is given up with a message, and the steps after it are not run', async () => {
    const tmp = await tempDir('polyprune-ladder-page-timeout-');
    try {
      const out = path.join(tmp.dir, 'results.json');
      // the perplexity step compiles its pipelines on SwiftShader: several seconds, never under 1
      const table = execFileSync(process.execPath, ['tools/size-ladder/ladder.mjs', '--page', '--models', 'tiny', '--steps', 'plan,load,ppl,export', '--timeout-s', '1', '--work', tmp.dir, '--out', out], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 }).toString();
      const [r] = JSON.parse(readFileSync(out, 'utf8'));
      // whichever step ran out of time first (on a slow machine it may be the load), nothing after it ran
      const order = ['plan', 'load', 'ppl', 'export'] as const;
      const first = order.findIndex((k) => !r.steps[k]?.ok);
      expect(first, JSON.stringify(r.steps)).toBeGreaterThanOrEqual(0);
      // (with the engine's last progress line when one came before the timeout)
      expect(r.steps[order[first]].error).toMatch(/^did not finish within --timeout-s 1 s( \(last progress at [\d.]+ s: .+\))?$/);
      expect(r.steps[order[first]].timedOut).toBe(true);
      for (const k of order.slice(first + 1)) expect(r.steps[k]?.ok, k).not.toBe(true);
      expect(table).toMatch(/failed|refused/);
    } finally {
      await tmp.remove();
    }
  });

  it('says how it is used for --help, and refuses an unknown option or a bad value in one line before it writes anything', () => {
    const run = (args: string[]): { code: number; out: string; err: string } => {
      try {
        return { code: 0, out: execFileSync(process.execPath, ['tools/size-ladder/ladder.mjs', ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 }).toString(), err: '' };
      } catch (e) {
        const x = e as { status: number; stdout: Buffer; stderr: Buffer };
        return { code: x.status, out: x.stdout.toString(), err: x.stderr.toString() };
      }
    };
    const help = run(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^usage: node tools\/size-ladder\/ladder\.mjs/);
    for (const [args, msg] of [[['--bogus'], /^ladder: Unknown option '--bogus'/], [['--timeout-s=0'], /^ladder: --timeout-s must be a positive number/], [['--models', 'gpt-5'], /^ladder: Unknown model 'gpt-5'/]] as const) {
      const r = run([...args]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err, args.join(' ')).toMatch(msg);
      expect(r.err).not.toMatch(/\n\s+at /); // no stack
    }
  });

  it('a CLI that cannot start (its dependencies gone, as while npm reinstalls node_modules under a ladder run) says so in one line, no stack', async () => {
    // the cause of the ladder's Llama-3.2-1B export that exited 1 in 0.2 s (BENCHMARKS.md): the
    // shared node_modules was being reinstalled, the bundle's imports did not resolve, and Node's
    // stack was all the command said
    const tmp = await tempDir('polyprune-nodeps-');
    try {
      cpSync('bin', path.join(tmp.dir, 'bin'), { recursive: true });
      cpSync('dist-cli', path.join(tmp.dir, 'dist-cli'), { recursive: true });
      mkdirSync(path.join(tmp.dir, 'node_modules'));
      let status = 0;
      let stderr = '';
      try {
        execFileSync(process.execPath, [path.join(tmp.dir, 'bin/polyprune.mjs'), 'export', '--model', tmp.dir, '--out', path.join(tmp.dir, 'out')], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
      } catch (e) {
        ({ status, stderr } = e as { status: number; stderr: string });
      }
      expect(status).toBe(1);
      const lines = String(stderr).trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^polyprune: cannot start: Cannot find package '[^']+'.*run `npm install`/);
    } finally {
      await tmp.remove();
    }
  });
});
