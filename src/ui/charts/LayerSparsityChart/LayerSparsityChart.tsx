import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

/** One line: a model's (or experiment row's) sparsity per decoder layer, as fractions. */
export interface LayerSparsitySeries {
  name: string;
  values: number[];
}

const COLORS = ['#2f6fdf', '#e07b24', '#2a9d6a', '#b04ac9', '#c9403a', '#6b7280'];

/** Sparsity per decoder layer (OWL), one line per series, the target as a dashed line. */
export function LayerSparsityChart({ series, target }: { series: LayerSparsitySeries[]; target: number }) {
  const L = Math.max(0, ...series.map((s) => s.values.length));
  const rows = Array.from({ length: L }, (_, i) => {
    const row: Record<string, string | number> = { layer: String(i) };
    for (const s of series) if (Number.isFinite(s.values[i])) row[s.name] = Number((s.values[i] * 100).toFixed(2));
    return row;
  });
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  const lo = Math.floor(Math.min(target, ...all) * 100 - 2);
  const hi = Math.ceil(Math.max(target, ...all) * 100 + 2);
  return (
    <figure className="chart" aria-label="Sparsity per layer">
      <figcaption>Sparsity per decoder layer (%), dashed: the target {(target * 100).toFixed(1)} % (OWL keeps the mean there).</figcaption>
      <div aria-hidden="true">
        <ResponsiveContainer width="100%" height={240}>
          <LineChart data={rows} margin={{ top: 8, right: 8, bottom: 4, left: 0 }} accessibilityLayer={false} tabIndex={-1}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="layer" tickLine={false} label={{ value: 'layer', position: 'insideBottomRight', offset: -2 }} />
            <YAxis width={40} tickLine={false} domain={[lo, hi]} />
            <Tooltip />
            {series.length > 1 && <Legend />}
            <ReferenceLine y={Number((target * 100).toFixed(2))} stroke="#6b7280" strokeDasharray="6 4" />
            {series.map((s, i) => (
              <Line key={s.name} dataKey={s.name} name={s.name} stroke={COLORS[i % COLORS.length]} dot isAnimationActive={false} />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
}
