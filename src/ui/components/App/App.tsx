import { useAppStore } from '../../store';
import { GpuBadge } from '../../features/gpu/GpuStatus/GpuBadge';
import { GpuStatus } from '../../features/gpu/GpuStatus/GpuStatus';
import { Messages } from '../Messages/Messages';
import { ModelLine } from '../../features/model/ModelLine/ModelLine';
import { ModelPanel } from '../../features/model/ModelPanel/ModelPanel';
import { PerplexityPanel } from '../../features/perplexity/PerplexityPanel/PerplexityPanel';
import { PrunePanel } from '../../features/prune/PrunePanel/PrunePanel';
import { ExperimentPanel } from '../../features/experiment/ExperimentPanel/ExperimentPanel';
import { useWindowDrop } from './useWindowDrop';
import { TasksPanel } from '../../features/tasks/TasksPanel/TasksPanel';
import { HistoryBanner } from '../../features/history/HistoryPanel/HistoryBanner';
import { HistoryPanel } from '../../features/history/HistoryPanel/HistoryPanel';
import { MixerPanel } from '../../features/mixer/MixerPanel/MixerPanel';
import { ViewTabs } from '../ViewTabs/ViewTabs';
import { TryItPanel } from '../../features/tryit/TryItPanel/LazyTryItPanel';
import './App.css';

/**
 * The page: a header (name, the model line, the adapter, small), the views as tabs, the notices of
 * the whole page (drops, share links), then the view. The study comes first: the Experiment panel,
 * with the Model panel (loading other models, the active model's details) under it.
 */
export function App() {
  useWindowDrop();
  const view = useAppStore((s) => s.view);
  return (
    <div className="app">
      <header className="app-header">
        <div className="app-title">
          <h1 title="Prune a multilingual language model in your browser, calibrated on the language you choose, and see what it does to every language.">PolyPrune</h1>
        </div>
        <ModelLine />
        <GpuBadge />
      </header>
      <ViewTabs />
      <GpuStatus />
      <Messages panel="app" />
      <HistoryBanner />
      <main className="app-main" data-view={view}>
        {view === 'study' && (
          <>
            <ExperimentPanel />
            <ModelPanel />
          </>
        )}
        {view === 'measure' && (
          <div className="app-grid">
            <PerplexityPanel />
            <PrunePanel />
          </div>
        )}
        {view === 'tryit' && <TryItPanel />}
        {view === 'mixer' && <MixerPanel />}
        {view === 'tasks' && <TasksPanel />}
        {view === 'history' && <HistoryPanel />}
      </main>
      <footer className="app-footer hint">Everything runs locally on your GPU via WebGPU; no text or model leaves this page.</footer>
    </div>
  );
}
