import { useAppStore } from '../../../store';
import { detectGpu } from '../../../store/actions';
import { fmtBytes } from '../../../format';
import { Messages } from '../../../components/Messages/Messages';
import './GpuStatus.css';

/** WebGPU status: adapter details when ready, otherwise why not and what to do. */
export function GpuStatus() {
  const gpu = useAppStore((s) => s.gpu);
  return (
    <section className="panel gpu-status" aria-labelledby="gpu-heading" data-state={gpu.state}>
      <h2 id="gpu-heading">WebGPU</h2>
      {gpu.state === 'checking' && <p>Checking for WebGPU…</p>}
      {gpu.state === 'ready' && (
        <>
          <p className="gpu-ready">
            <span className="badge badge-ok">ready</span> <span className="gpu-adapter">{gpu.info.description}</span>
          </p>
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
        </>
      )}
      {gpu.state === 'unavailable' && <Unavailable api={gpu.api} code={gpu.code} message={gpu.message} />}
      <Messages panel="gpu" />
    </section>
  );
}

function Unavailable({ api, code, message }: { api: boolean; code: string; message: string }) {
  const secure = typeof window === 'undefined' || window.isSecureContext;
  return (
    <div className="gpu-unavailable" role="alert">
      <p>
        <span className="badge badge-bad">unavailable</span>{' '}
        <strong>{api ? 'This browser has WebGPU, but it found no usable GPU adapter.' : 'This browser does not offer WebGPU (navigator.gpu is missing).'}</strong>
      </p>
      <p className="gpu-engine-message">
        <code>{code}</code> {message}
      </p>
      <p>PolyPrune runs the model on your GPU through WebGPU, so loading and measuring models needs it. What to try:</p>
      <ul>
        {!secure && (
          <li>
            <strong>Open the page over https:// or from localhost.</strong> Browsers offer WebGPU only in secure contexts; this page was
            opened from <code>{location.origin}</code>.
          </li>
        )}
        <li>
          <strong>Chrome or Edge 113 or newer</strong> on Windows, macOS or ChromeOS have WebGPU on by default. On Linux and Android it may still
          be behind a flag: open <code>chrome://flags/#enable-unsafe-webgpu</code>, enable it (on Linux also{' '}
          <code>chrome://flags/#enable-vulkan</code>) and restart the browser.
        </li>
        <li>
          <strong>Firefox</strong>: WebGPU is on by default from Firefox 141 on Windows; elsewhere set <code>dom.webgpu.enabled</code> to true in{' '}
          <code>about:config</code>. <strong>Safari</strong>: on by default from Safari 26; in earlier versions enable WebGPU under Develop →
          Feature Flags.
        </li>
        <li>
          Make sure hardware acceleration is on (Chrome: Settings → System → “Use graphics acceleration when available”) and look at{' '}
          <code>chrome://gpu</code>: “WebGPU” should read “Hardware accelerated”. A blocklisted GPU or driver can hide the adapter; updating the
          graphics driver often helps.
        </li>
      </ul>
      <p>
        <button type="button" onClick={() => void detectGpu()}>
          Check again
        </button>
      </p>
    </div>
  );
}
