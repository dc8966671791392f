/**
 * Self-generated calibration sources in the CLI (`--calib gen:de`, docs/generate.md): the options
 * that set how the model writes, and the step that writes each such source once the model is loaded.
 */
import type { Command } from 'commander';
import { DEFAULT_GEN_CALIBRATION, genSourceName, parseGenSource, type CalibrationText, type GenerateCalibrationRequest } from '../engine';
import type { LocalEngine } from '../engine/local';
import type { ProgressCallback } from '../common/progress';
import { parseIntArg, seedArg } from './main';
import { parseNumber } from './generate';

export interface GenCliOptions {
  genTokens?: number;
  genKeep: number;
  genSeed: number;
  genTemperature: number;
  genTopK: number;
  genTopP: number;
  genRepetitionPenalty: number;
}

export function addGenOptions(cmd: Command): Command {
  const d = DEFAULT_GEN_CALIBRATION;
  return cmd
    .option('--gen-tokens <n>', 'gen: sources: new tokens per generated window (default --seqlen)', parseIntArg('--gen-tokens'))
    .option('--gen-keep <r>', 'gen: sources: perplexity filter, the share of written windows kept (1 = no filter)', parseNumber('--gen-keep'), d.keep)
    .option('--gen-seed <n>', 'gen: sources: sampling seed', seedArg('--gen-seed'), 0)
    .option('--gen-temperature <t>', 'gen: sources: sampling temperature', parseNumber('--gen-temperature'), d.temperature)
    .option('--gen-top-k <k>', 'gen: sources: top-k (0 = off)', parseIntArg('--gen-top-k', 0), d.topK)
    .option('--gen-top-p <p>', 'gen: sources: top-p (1 = off)', parseNumber('--gen-top-p'), d.topP)
    .option('--gen-repetition-penalty <r>', 'gen: sources: repetition penalty (1 = off)', parseNumber('--gen-repetition-penalty'), d.repetitionPenalty);
}

/** A calibration text the model will write: its placeholder (filled by writeGenerated) and request. */
export interface PendingGen {
  text: CalibrationText;
  req: GenerateCalibrationRequest;
}

/** `gen:...` as a placeholder text with its request: `windows` windows of --gen-tokens (default seqlen) new tokens. */
export function pendingGen(spec: string, o: GenCliOptions, windows: number, seqlen: number): PendingGen {
  const { language, prompt } = parseGenSource(spec);
  const req: GenerateCalibrationRequest = {
    language,
    prompt,
    windows,
    tokens: o.genTokens ?? seqlen,
    keep: o.genKeep,
    temperature: o.genTemperature,
    topK: o.genTopK,
    topP: o.genTopP,
    repetitionPenalty: o.genRepetitionPenalty,
    seed: o.genSeed,
  };
  return { text: { name: genSourceName({ language, prompt }), text: '', language }, req };
}

/** Let the model write every pending text (progress on stderr), filling in text and provenance. */
export async function writeGenerated(engine: LocalEngine, modelId: string, pending: PendingGen[], onProgress?: ProgressCallback): Promise<void> {
  for (const p of pending) {
    const g = await engine.generateCalibration(modelId, p.req, { onProgress });
    p.text.text = g.text;
    p.text.generated = g.generated;
    process.stderr.write(`${p.text.name}: ${g.written} windows written, ${p.req.windows} kept (perplexity ${g.perplexity.toFixed(3)}), ${g.bytes} bytes, sha256 ${g.sha256.slice(0, 12)}\n`);
  }
}
