import { describe, expect, it } from 'vitest';
import { planStudy, resumeMismatch, type StudyInputs, type StudySpec } from '../../../experiment/study';
import { sha256Hex } from '../../../calib/text';
import { studyFromRecord } from './rerun';

const model = { source: 'x', name: 'm', sha256: 'a'.repeat(64) };
const inputs: StudyInputs = {
  sources: [
    { label: 'de', texts: [{ name: 'de.txt', text: 'Ein Text.', language: 'de' }] },
    { label: 'mix', texts: [{ name: 'de.txt', text: 'Ein Text.', language: 'de', weight: 2 }, { name: 'en.txt', text: 'A text.', language: 'en', weight: 1 }] },
  ],
  columns: [{ language: 'en', text: { name: 'eval-en.txt', text: 'Held out.' } }],
};
const base: StudySpec = { method: 'wanda', sparsity: 0.5, nsamples: 2, seqlen: 8, seeds: [0, 1], evalSeqlen: 8 };

describe('studyFromRecord (resume and re-run from history)', () => {
  it('gives back the same experiment, layer profile and instant rows included', async () => {
    const texts = new Map<string, string>();
    for (const t of ['Ein Text.', 'A text.', 'Held out.']) texts.set(await sha256Hex(new TextEncoder().encode(t)), t);
    const specs: StudySpec[] = [base, { ...base, profile: 'owl', owlM: 7, owlLambda: 0.05 }, { ...base, method: 'wanda-lang', langBeta: 0.5 }, { ...base, instant: true }, { ...base, instant: true, confirm: true },
      // several methods side by side (record version 2), GPTQ and SparseGPT's joint mode included
      { ...base, variants: [{ method: 'magnitude', sparsity: 0.5 }, { method: 'wanda', sparsity: 0.5 }, { method: 'gptq', quantize: { bits: 4 } }, { method: 'sparsegpt', nm: { n: 2, m: 4 }, quantize: { bits: 4 } }] },
      { ...base, variants: [{ method: 'gptq', quantize: { bits: 3, groupSize: 32, actOrder: true } }] },
    ];
    for (const spec of specs) {
      const rec = await planStudy(model, 'adapter', spec, inputs);
      const back = studyFromRecord(rec, texts);
      expect(back.inputs.sources.map((s) => s.label)).toEqual(['de', 'mix']);
      const again = await planStudy(model, 'adapter', back.spec, back.inputs);
      expect(resumeMismatch(again, rec), JSON.stringify(spec)).toBeNull();
      expect(again.rows).toEqual(rec.rows);
    }
  });
});
