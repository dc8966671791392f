import { lazy, Suspense } from 'react';

// The panel, its actions and (on first use) transformers.js load when the "Try it" view opens, so the
// page's first load does not carry them.
const Panel = lazy(() => import('./TryItPanel').then((m) => ({ default: m.TryItPanel })));

export function TryItPanel() {
  return (
    <Suspense fallback={<p className="hint">Loading the Try it panel…</p>}>
      <Panel />
    </Suspense>
  );
}
