import { GpuStatus } from '../../features/gpu/GpuStatus/GpuStatus';
import { Messages } from '../Messages/Messages';
import { ModelPanel } from '../../features/model/ModelPanel/ModelPanel';
import { PerplexityPanel } from '../../features/perplexity/PerplexityPanel/PerplexityPanel';
import { PrunePanel } from '../../features/prune/PrunePanel/PrunePanel';
import { ExperimentPanel } from '../../features/experiment/ExperimentPanel/ExperimentPanel';
import { useWindowDrop } from './useWindowDrop';
import { TasksPanel } from '../../features/tasks/TasksPanel/TasksPanel';
import { HistoryBanner } from '../../features/history/HistoryPanel/HistoryBanner';
import { HistoryPanel } from '../../features/history/HistoryPanel/HistoryPanel';
import { MixerPanel } from '../../features/mixer/MixerPanel/MixerPanel';
import './App.css';

export function App() {
  useWindowDrop();
  return (
    <div className="app">
      <header className="app-header">
        <h1>PolyPrune</h1>
        <p>Prune a multilingual language model in your browser, calibrated on the language you choose, and see what it does to every language.</p>
      </header>
      <Messages panel="app" />
      <HistoryBanner />
      <main className="app-grid">
        <div className="app-col">
          <GpuStatus />
          <ModelPanel />
        </div>
        <div className="app-col">
          <PerplexityPanel />
          <PrunePanel />
        </div>
        {/* Full width: the experiment (its heatmaps need the room), then the single-task panel; room for more panels below. */}
        <div className="app-wide">
          <ExperimentPanel />
          <MixerPanel />
          <TasksPanel />
          <HistoryPanel />
        </div>
      </main>
      <footer className="app-footer hint">Everything runs locally on your GPU via WebGPU; no text or model leaves this page.</footer>
    </div>
  );
}
