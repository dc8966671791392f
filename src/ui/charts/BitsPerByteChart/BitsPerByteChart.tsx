import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

/** One bar: a model's bits per byte on one language (or text). */
export interface BitsPerByteDatum {
  label: string;
  model: string;
  bitsPerByte: number;
}

const COLORS = ['#2f6fdf', '#e07b24', '#2a9d6a', '#b04ac9', '#c9403a', '#6b7280'];

/** Bits per byte per language, one bar per model (lower is better; comparable across tokenizers). */
export function BitsPerByteChart({ data }: { data: BitsPerByteDatum[] }) {
  const labels = [...new Set(data.map((d) => d.label))];
  const models = [...new Set(data.map((d) => d.model))];
  const rows = labels.map((label) => {
    const row: Record<string, string | number> = { label };
    for (const d of data) if (d.label === label) row[d.model] = Number(d.bitsPerByte.toFixed(3));
    return row;
  });
  return (
    <figure className="chart" aria-label="Bits per byte per language">
      <figcaption>Bits per byte (lower is better); the table above has every number.</figcaption>
      {/* Decorative for keyboard and screen readers: the table holds the same numbers, so the chart adds no tab stops. */}
      <div aria-hidden="true">
      <ResponsiveContainer width="100%" height={260}>
        <BarChart data={rows} margin={{ top: 8, right: 8, bottom: 4, left: 0 }} accessibilityLayer={false} tabIndex={-1}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="label" tickLine={false} />
          <YAxis width={40} tickLine={false} />
          <Tooltip />
          {models.length > 1 && <Legend />}
          {models.map((m, i) => (
            <Bar key={m} dataKey={m} name={m} fill={COLORS[i % COLORS.length]} isAnimationActive={false} />
          ))}
        </BarChart>
      </ResponsiveContainer>
      </div>
    </figure>
  );
}
