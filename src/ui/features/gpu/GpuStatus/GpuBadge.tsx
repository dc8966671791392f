import './GpuStatus.css';
import { useAppStore } from '../../../store';
import { fmtBytes } from '../../../format';
import { Messages } from '../../../components/Messages/Messages';

/**
 * The adapter, small, for the header: "WebGPU ready · <adapter>", its features and limits one click
 * away. When WebGPU is unavailable the header says so and GpuStatus explains it under the header.
 */
export function GpuBadge() {
  const gpu = useAppStore((s) => s.gpu);
  if (gpu.state === 'unavailable') {
    return (
      <p className="gpu-badge">
        <span className="badge badge-bad">WebGPU unavailable</span>
      </p>
    );
  }
  return (
    <section className="gpu-status gpu-badge" aria-label="WebGPU" data-state={gpu.state}>
      {gpu.state === 'checking' ? (
        <p>Checking for WebGPU…</p>
      ) : (
        <details>
          <summary>
            <span className="badge badge-ok">WebGPU</span> <span className="gpu-adapter">{gpu.info.description}</span>
          </summary>
          <dl className="facts">
            <dt>shader-f16</dt>
            <dd>{gpu.info.features.shaderF16 ? 'yes' : 'no'}</dd>
            <dt>subgroups</dt>
            <dd>{gpu.info.features.subgroups ? 'yes' : 'no'}</dd>
            <dt>timestamp queries</dt>
            <dd>{gpu.info.features.timestampQuery ? 'yes' : 'no'}</dd>
            <dt>max buffer</dt>
            <dd>{fmtBytes(gpu.info.limits.maxBufferSize)}</dd>
            <dt>max storage binding</dt>
            <dd>{fmtBytes(gpu.info.limits.maxStorageBufferBindingSize)}</dd>
          </dl>
        </details>
      )}
      <Messages panel="gpu" />
    </section>
  );
}
