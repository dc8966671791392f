import { lazy, Suspense } from 'react';
import type { LayerSparsitySeries } from './LayerSparsityChart';

// recharts loads with the first chart (as the bits-per-byte chart).
const Chart = lazy(() => import('./LayerSparsityChart').then((m) => ({ default: m.LayerSparsityChart })));

export function LayerSparsityChart({ series, target }: { series: LayerSparsitySeries[]; target: number }) {
  return (
    <Suspense fallback={<p className="hint">Loading chart…</p>}>
      <Chart series={series} target={target} />
    </Suspense>
  );
}
