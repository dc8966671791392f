import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIXTURE, requireShared } from '../helpers/fixture';
import { runCli } from '../helpers/cli';

const cli = (args: string[]) => runCli(args);

let tmp: string;
beforeAll(() => {
  requireShared(FIXTURE);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'polyprune-cli-export-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('polyprune export / prune --format onnx', () => {
  it('prune --format onnx writes the transformers.js layout; export --format hf of the pruned HF folder keeps the provenance that info shows', () => {
    const calib = path.join(FIXTURE, 'calib-en.safetensors');
    const onnxOut = path.join(tmp, 'pruned-onnx');
    const r = cli(['prune', '-m', FIXTURE, '--method', 'wanda', '--sparsity', '0.5', '--calib-tokens', calib, '--format', 'onnx', '-o', onnxOut]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(path.join(onnxOut, 'onnx')).sort()).toEqual(['model.onnx', 'model_fp16.onnx']);
    const hf = path.join(tmp, 'pruned-hf');
    expect(cli(['prune', '-m', FIXTURE, '--method', 'wanda', '--sparsity', '0.5', '--calib-tokens', calib, '-o', hf]).code).toBe(0);
    const sharded = path.join(tmp, 'sharded');
    const e = cli(['export', '-m', hf, '--format', 'hf', '--max-shard-bytes', '300000', '-o', sharded, '--json']);
    expect(e.code, e.stderr).toBe(0);
    const j = JSON.parse(e.stdout);
    expect(j.files).toContain('model.safetensors.index.json');
    expect(j.pruning).toMatchObject({ method: 'wanda', structure: 'unstructured', sparsityRatio: 0.5 });
    const info = cli(['info', '-m', sharded]);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/pruned {9}wanda unstructured, target 0\.5, overall sparsity 0\.500000/);
    expect(info.stdout).toContain("base model     local folder 'stories260K'"); // portable: never the local path (docs/export.md)
  });

  it('bad input: one-line messages, exit codes, nothing written', () => {
    const out = path.join(tmp, 'never');
    const bad = cli(['export', '-m', FIXTURE, '--format', 'xml', '-o', out]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe("polyprune: Unknown --format 'xml'. Supported: hf, hf-gptq, onnx.");
    const gptq = cli(['export', '-m', FIXTURE, '--format', 'hf-gptq', '-o', out]);
    expect(gptq.code).toBe(2);
    expect(gptq.stderr.trim()).toMatch(/^polyprune: The hf-gptq format stores a GPTQ model's integer codes; quantize the model first \(polyprune quantize .*--format hf-gptq\)\.$/m);
    const exists = path.join(tmp, 'exists');
    mkdirSync(exists);
    const ex = cli(['export', '-m', FIXTURE, '--format', 'onnx', '-o', exists]);
    expect(ex.code).toBe(2);
    expect(ex.stderr).toMatch(/^polyprune: Output folder '.*exists' already exists\./);
    // A folder in the ONNX export layout (no safetensors) is explained, not reported as "no weights".
    const onnxDir = path.join(tmp, 'onnx-like');
    mkdirSync(path.join(onnxDir, 'onnx'), { recursive: true });
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(path.join(FIXTURE, f), path.join(onnxDir, f));
    writeFileSync(path.join(onnxDir, 'onnx/model.onnx'), '');
    const back = cli(['export', '-m', onnxDir, '--format', 'hf', '-o', out]);
    expect(back.code).toBe(1);
    expect(back.stderr).toMatch(/holds an ONNX export \(onnx\/model\.onnx\).*polyprune export --format hf/);
    const ro = cli(['export', '-m', FIXTURE, '--format', 'hf', '-o', '/sys/polyprune-cli-test/out']);
    // refused before any work by the output check every command shares
    expect(ro.code).toBe(2);
    expect(ro.stderr.trim().split('\n').pop()).toMatch(/^polyprune: Cannot write the output folder '\/sys\/polyprune-cli-test\/out': .*Nothing was run\.$/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmp).filter((f) => f.includes('.partial-'))).toEqual([]);
  });
});
