/**
 * The worker protocol without a browser: a fake engine served on one end of a MessageChannel and the
 * worker client on the other (the real Worker runs in test/browser).
 */
import { MessageChannel } from 'node:worker_threads';
import { expose, type Endpoint } from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import { PolyPruneError } from '../common/errors';
import type { ProgressEvent } from '../common/progress';
import type { OpOptions } from './api';
import { wrapEngineEndpoint } from './client';
import { engineEndpoint, installErrorTransfer } from './rpc';

const channels: MessageChannel[] = [];
afterEach(() => {
  for (const c of channels.splice(0)) {
    c.port1.close();
    c.port2.close();
  }
});

function connect(engine: object) {
  installErrorTransfer();
  const ch = new MessageChannel();
  channels.push(ch);
  expose(engineEndpoint(engine), ch.port1 as unknown as Endpoint);
  return wrapEngineEndpoint(ch.port2 as unknown as Endpoint);
}

describe('engine worker protocol', () => {
  it('forwards arguments and results (typed arrays included)', async () => {
    const client = connect({ tokenize: async (id: string, text: string) => Int32Array.from([id.length, text.length]) });
    const ids = await client.tokenize('m1', 'hello');
    expect(ids).toBeInstanceOf(Int32Array);
    expect([...ids]).toEqual([2, 5]);
  });

  it('proxies onProgress nested in the options and keeps the other options', async () => {
    let seenOpId: string | undefined;
    const client = connect({
      async perplexity(_id: string, _req: unknown, opts?: OpOptions) {
        seenOpId = opts?.opId;
        opts?.onProgress?.({ kind: 'eval', message: 'window', done: 1, total: 2 });
        opts?.onProgress?.({ kind: 'eval', message: 'window', done: 2, total: 2 });
        await new Promise((r) => setTimeout(r, 20));
        return { ppl: 1 };
      },
    });
    const events: ProgressEvent[] = [];
    const r = await client.perplexity('m1', { seqlen: 8 }, { opId: 'op7', onProgress: (e) => events.push(e) });
    expect(r).toEqual({ ppl: 1 });
    expect(seenOpId).toBe('op7');
    expect(events.map((e) => (e.kind === 'eval' ? e.done : -1))).toEqual([1, 2]);
  });

  it('keeps the error code across the boundary', async () => {
    const client = connect({
      loadModel: async () => {
        throw new PolyPruneError('FILE_NOT_FOUND', 'config.json is missing');
      },
      unloadModel: async () => {
        throw new TypeError('plain error');
      },
    });
    const e1 = await client.loadModel({ kind: 'url', url: 'x' }).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(PolyPruneError);
    expect(e1).toMatchObject({ code: 'FILE_NOT_FOUND', message: 'config.json is missing' });
    const e2 = await client.unloadModel('m1').catch((e: unknown) => e);
    expect(e2).toMatchObject({ code: 'INTERNAL', message: 'plain error' });
  });

  it('reports a method the served engine lacks as BAD_ARGUMENT', async () => {
    const client = connect({});
    await expect(client.listModels()).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });

  it('fails pending and later calls once the endpoint is declared dead', async () => {
    const client = connect({ gpuInfo: () => new Promise(() => undefined) });
    const pending = client.gpuInfo();
    client.fail(new PolyPruneError('INTERNAL', 'worker died'));
    await expect(pending).rejects.toMatchObject({ message: 'worker died' });
    await expect(client.listModels()).rejects.toMatchObject({ message: 'worker died' });
  });
});
