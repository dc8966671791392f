/**
 * `polyprune generate` on the stories260K fixture: seeded sampling gives the same tokens on every
 * run (and another seed others); greedy decoding with the engine's K/V cache equals transformers.js
 * `generate` on the model's ONNX export (onnxruntime-node) token for token; bad settings end in one
 * line with exit code 1.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE, requireShared } from '../helpers/fixture';
import { requireCliBundle, runCliAsync } from '../helpers/cli';

const cli = (args: string[]) => runCliAsync(args);

interface Out { tokens: number[]; promptIds: number[]; text: string; logprobs: number[]; stopReason: string; runtime: string }
async function gen(args: string[]): Promise<Out> {
  const r = await cli(['generate', '--model', FIXTURE, '--prompt', 'Once upon a time', '--json', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Out;
}

beforeAll(() => {
  requireCliBundle();
  requireShared(FIXTURE);
});

describe('polyprune generate', () => {
  it('seeded sampling is reproducible; another seed gives other tokens', async () => {
    const args = ['-n', '16', '--temperature', '1', '--top-k', '50', '--top-p', '0.95'];
    const [a, b, c] = await Promise.all([gen([...args, '--seed', '5']), gen([...args, '--seed', '5']), gen([...args, '--seed', '6'])]);
    expect(a.tokens).toHaveLength(16);
    expect(b.tokens).toEqual(a.tokens);
    expect(b.text).toBe(a.text);
    expect(c.tokens).not.toEqual(a.tokens);
  });

  it('greedy: the engine (K/V cache) equals transformers.js on the ONNX export, token for token', async () => {
    const [e, x] = await Promise.all([gen(['-n', '24']), gen(['-n', '24', '--runtime', 'onnx'])]);
    expect(x.runtime).toBe('onnx');
    expect(x.promptIds).toEqual(e.promptIds);
    expect(x.tokens).toEqual(e.tokens);
    expect(x.text).toBe(e.text);
    expect(e.text.length).toBeGreaterThan(20);
    x.logprobs.forEach((lp, i) => expect(Math.abs(lp - e.logprobs[i])).toBeLessThan(1e-3));
  });

  it('refuses bad settings in one line', async () => {
    for (const [args, msg] of [
      [['-n', '0'], /^polyprune: Max new tokens 0 is out of range: give a whole number from 1 to 511 /m],
      [['-n', '9999'], /^polyprune: Max new tokens 9999 is too many: .*give at most 511\.$/m],
      [['--temperature', '1', '--top-p', '2'], /^polyprune: Top-p 2 is out of range/m],
      [['--runtime', 'tfjs'], /^polyprune: --runtime 'tfjs' is not a runtime: give engine or onnx\.$/m],
    ] as const) {
      const r = await cli(['generate', '--model', FIXTURE, ...args]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
