/**
 * The self-generated calibration source's spelling and defaults (docs/generate.md). No GPU code: the
 * page's main thread, the CLI and the engine share it.
 *
 *   gen:<lang>            the model writes from a few words of <lang> (GEN_PROMPTS)
 *   gen:<lang>:bos        from the BOS token alone (as in Ji et al., ICLR 2025, without a prefix)
 *   gen:<lang>:<prompt>   from the given prompt
 */
import { z } from 'zod';
import { PolyPruneError } from '../common/errors';

const num = z.number().finite();
const int = z.number().int();

/**
 * How a self-generated calibration text was written (engine.generateCalibration): enough to write it
 * again and check its SHA-256 (a record's SourceRef.generated).
 */
export const generatedSourceSchema = z.object({
  language: z.string().min(1).nullable(),
  /** The prompt after the BOS token; null = the BOS token alone. */
  prompt: z.string().nullable(),
  /** Windows kept, new tokens per window, the share kept by the perplexity filter (1 = none). */
  windows: int.min(1),
  tokens: int.min(1),
  keep: num.gt(0).max(1),
  temperature: num.gt(0).max(100),
  topK: int.nonnegative(),
  topP: num.gt(0).max(1),
  repetitionPenalty: num.min(1).max(10),
  seed: int.nonnegative(),
  /** Content hash of the model that wrote it (the dense model). */
  model: z.string().regex(/^[0-9a-f]{64}$/, 'expected a SHA-256 hex digest'),
});
export type GeneratedSource = z.infer<typeof generatedSourceSchema>;

/**
 * Sampling and filter settings of "Beware of Calibration Data for Pruning Large Language Models"
 * (Ji et al., ICLR 2025), from the authors' repository (github.com/ShiningSord/calibration_data,
 * sample_ppl.py: the generated file `..._prefix64_temp0.8_p0.95_k50_repet1.1.json` and the filter
 * that drops the windows above the 80th percentile of perplexity).
 */
export const DEFAULT_GEN_CALIBRATION = { temperature: 0.8, topK: 50, topP: 0.95, repetitionPenalty: 1.1, keep: 0.8 } as const;

/** A few words to start from, per language of the bundled model (plain sentence openers: "This is"). */
export const GEN_PROMPTS: Readonly<Record<string, string>> = {
  ar: 'هذا هو',
  de: 'Das ist',
  en: 'This is',
  es: 'Esto es',
  fr: "C'est",
  it: 'Questo è',
  ja: 'これは',
  pt: 'Isto é',
  ru: 'Это',
  sw: 'Hii ni',
  zh: '这是',
};

export function isGenSource(spec: string): boolean {
  return spec.startsWith('gen:');
}

/** `gen:de`, `gen:de:bos`, `gen:de:Es war einmal` -> language and prompt (null = BOS alone). */
export function parseGenSource(spec: string): { language: string; prompt: string | null } {
  const m = /^gen:([a-z]{2,3}(?:-[A-Za-z0-9]+)*)(?::([\s\S]*))?$/.exec(spec);
  if (!m) throw new PolyPruneError('BAD_ARGUMENT', `'${spec}' is not a generated source: write gen:<language>, gen:<language>:bos or gen:<language>:<prompt>, e.g. gen:de.`);
  const language = m[1];
  const rest = m[2];
  if (rest === undefined) {
    const prompt = GEN_PROMPTS[language];
    if (prompt === undefined) throw new PolyPruneError('BAD_ARGUMENT', `'${spec}': there are no default words for '${language}' (there are for ${Object.keys(GEN_PROMPTS).join(', ')}); give a prompt (gen:${language}:<a few words>) or gen:${language}:bos.`);
    return { language, prompt };
  }
  if (rest === 'bos') return { language, prompt: null };
  if (!rest.trim()) throw new PolyPruneError('BAD_ARGUMENT', `'${spec}': the prompt is empty; give a few words, or gen:${language}:bos for the BOS token alone.`);
  return { language, prompt: rest };
}

/** The source's name in tables and records: gen:de, gen:de:bos, gen:de:"Es war einmal". */
export function genSourceName(g: { language: string | null; prompt: string | null }): string {
  const l = g.language ?? 'und';
  if (g.prompt === null) return `gen:${l}:bos`;
  return GEN_PROMPTS[l] === g.prompt ? `gen:${l}` : `gen:${l}:${JSON.stringify(g.prompt)}`;
}
