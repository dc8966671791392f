import { describe, it, expect } from 'vitest';
import { resolveTaskName } from '../../src/eval/lmEvalNames';

describe('lm-eval task names', () => {
  it('resolve to a task format and a language', () => {
    expect(resolveTaskName('xcopa_it')).toEqual({ task: 'xcopa', language: 'it', lmEvalLanguage: 'it' });
    expect(resolveTaskName('xnli_de')).toMatchObject({ task: 'xnli', language: 'de' });
    expect(resolveTaskName('belebele_deu_Latn')).toEqual({ task: 'belebele', language: 'de', lmEvalLanguage: 'deu_Latn' });
    expect(resolveTaskName('pawsx_de')).toMatchObject({ task: 'pawsx', language: 'de' });
    expect(resolveTaskName('xstorycloze_es')).toMatchObject({ task: 'xstorycloze', language: 'es' });
    expect(resolveTaskName('xwinograd_jp')).toMatchObject({ task: 'xwinograd', language: 'ja' });
    expect(resolveTaskName('xcopa')).toEqual({ task: 'xcopa' });
  });
  it('refuse unknown names and languages lm-eval does not have', () => {
    expect(() => resolveTaskName('xcopa_de')).toThrow(/lm-eval has no task 'xcopa_de': xcopa languages are et, ht/);
    expect(() => resolveTaskName('hellaswag')).toThrow(/Unknown task 'hellaswag'. Supported: xcopa.*xcopa_it/);
  });
});
