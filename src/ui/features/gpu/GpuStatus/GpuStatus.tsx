import { useAppStore } from '../../../store';
import { detectGpu } from '../../../store/actions';
import { Messages } from '../../../components/Messages/Messages';
import './GpuStatus.css';

/** Why WebGPU is unavailable and what to do (the header's GpuBadge shows the adapter when it works). */
export function GpuStatus() {
  const gpu = useAppStore((s) => s.gpu);
  if (gpu.state !== 'unavailable') return null;
  return (
    <section className="panel gpu-status" aria-labelledby="gpu-heading" data-state={gpu.state}>
      <h2 id="gpu-heading">WebGPU</h2>
      <Unavailable api={gpu.api} code={gpu.code} message={gpu.message} />
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
