import { useEffect, useState } from 'react';
import { useAppStore } from '../../../store';
import { clearWeightCache, weightCacheInfo } from '../../../store/actions';
import { fmtBytes } from '../../../format';

/** How much downloaded data (weights, Hub datasets) the browser keeps (Cache API), and a button to clear it. */
export function WeightCachePanel() {
  const models = useAppStore((s) => s.models.length);
  const sources = useAppStore((s) => s.sources.length); // Hub calibration text lands in the same cache
  const busy = useAppStore((s) => s.running !== null);
  const [info, setInfo] = useState<{ available: boolean; entries: number; bytes: number } | null>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let live = true;
    void weightCacheInfo().then((i) => live && setInfo(i));
    return () => {
      live = false;
    };
  }, [models, sources, busy, tick]);

  if (!info?.available) return null;
  return (
    <p className="weight-cache hint" aria-label="Cached weights">
      Cached downloads (model weights and Hub datasets): <span className="weight-cache-size">{fmtBytes(info.bytes)}</span> in {info.entries} pieces (models loaded by URL or Hugging Face id, Hub
      calibration text and lm-eval task data load from here next time).{' '}
      <button type="button" disabled={busy || info.entries === 0} onClick={() => void clearWeightCache().then(() => setTick((t) => t + 1))}>
        Clear cached downloads
      </button>
    </p>
  );
}
