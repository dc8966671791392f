import { lazy, Suspense } from 'react';
import type { BitsPerByteDatum } from './BitsPerByteChart';

// recharts is most of the page's script; load it when the first chart appears.
const Chart = lazy(() => import('./BitsPerByteChart').then((m) => ({ default: m.BitsPerByteChart })));

export function BitsPerByteChart({ data }: { data: BitsPerByteDatum[] }) {
  return (
    <Suspense fallback={<p className="hint">Loading chart…</p>}>
      <Chart data={data} />
    </Suspense>
  );
}
