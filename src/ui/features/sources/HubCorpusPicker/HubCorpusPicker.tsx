import { useState } from 'react';
import { HUB_CORPORA } from '../../../../engine';
import { useAppStore } from '../../../store';
import { addHubSources, hubTextBytes } from '../actions';
import { fmtBytes } from '../../../format';

/**
 * Calibration text from a Hugging Face Hub corpus, one source per language: mC4 as the study used it,
 * FineWeb-2, Wikipedia, or any dataset (`org/name:config:split:column`). Reads only as many bytes as
 * the experiment's calibration windows need; kept in the browser cache with the weights.
 */
export function HubCorpusPicker({ initialLanguages = '' }: { initialLanguages?: string }) {
  const busy = useAppStore((s) => s.running !== null);
  const bytes = useAppStore((s) => hubTextBytes(s.expNsamples, s.expSeqlen));
  const [corpus, setCorpus] = useState('mc4');
  const [other, setOther] = useState('');
  const [langs, setLangs] = useState(initialLanguages);
  const [loading, setLoading] = useState(false);
  const list = langs
    .split(/[\s,]+/)
    .map((l) => l.trim())
    .filter(Boolean);
  const isOther = corpus === 'other';
  const ready = isOther ? /^[^:\s]+\/[^:\s]+:[^:\s]+/.test(other.trim()) : list.length > 0;
  const add = async (): Promise<void> => {
    setLoading(true);
    try {
      if (isOther) {
        const [head, ...rest] = other.trim().split(':');
        await addHubSources(head, [rest.join(':')]);
      } else await addHubSources(corpus, list);
    } finally {
      setLoading(false);
    }
  };
  return (
    <div className="row exp-hub" role="group" aria-label="Calibration text from the Hugging Face Hub">
      <span className="hint">Hugging Face Hub:</span>
      <select aria-label="Hub corpus" value={corpus} disabled={busy || loading} onChange={(e) => setCorpus(e.target.value)}>
        {HUB_CORPORA.map((c) => (
          <option key={c.id} value={c.id}>
            {c.label}
          </option>
        ))}
        <option value="other">Other dataset…</option>
      </select>
      {isOther ? (
        <input aria-label="Hub dataset (org/name:config:split:column)" placeholder="org/name:config:split:text" size={32} value={other} disabled={busy || loading} onChange={(e) => setOther(e.target.value)} />
      ) : (
        <input aria-label="Hub corpus languages" placeholder="ar, de, en" size={16} value={langs} disabled={busy || loading} onChange={(e) => setLangs(e.target.value)} />
      )}
      <button type="button" className="small" disabled={busy || loading || !ready} onClick={() => void add()}>
        {loading ? 'Reading…' : 'Add from the Hub'}
      </button>
      <span className="hint">about {fmtBytes(bytes)} of text per language (the calibration windows × 4 bytes a token), from the corpus&apos;s first documents.</span>
    </div>
  );
}
