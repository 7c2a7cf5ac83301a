// src/kube/watch.ts: the resuming watch behind rollout status, against a scripted watch source.
import { silentLogger } from '../../../src/log.js';
import { ResumingWatch, type WatchChange, type WatchHandlers, type WatchSource } from '../../../src/kube/watch.js';
import { ManualClock, settle } from '../../support/clock.js';

const object = (name: string, resourceVersion: string) => ({ metadata: { namespace: 'shop', name, resourceVersion } });
const status = (code: number) => Object.assign(new Error(`HTTP ${code}`), { code });

/** A watch source whose streams the test drives: each open is recorded with its version. */
class ScriptedSource implements WatchSource {
  readonly versions: string[] = [];
  readonly opens: string[] = [];
  readonly streams: { handlers: WatchHandlers; closed: boolean }[] = [];
  /** What the next opens answer, in order; an empty queue opens. */
  readonly refusals: Error[] = [];
  collectionVersion = '100';

  version(): Promise<string> {
    this.versions.push(this.collectionVersion);
    return Promise.resolve(this.collectionVersion);
  }

  open(resourceVersion: string, handlers: WatchHandlers): Promise<{ close(): void }> {
    this.opens.push(resourceVersion);
    const refusal = this.refusals.shift();
    if (refusal) return Promise.reject(refusal);
    const stream = { handlers, closed: false };
    this.streams.push(stream);
    return Promise.resolve({ close: () => void (stream.closed = true) });
  }

  get last(): WatchHandlers {
    const stream = this.streams.at(-1);
    if (!stream) throw new Error('no stream opened');
    return stream.handlers;
  }
}

function setUp(source = new ScriptedSource()) {
  const clock = new ManualClock();
  const changes: WatchChange[] = [];
  const watch = new ResumingWatch(source, (change) => changes.push(change), { what: 'watch deployments.apps', logger: silentLogger(), clock });
  return { source, clock, changes, watch };
}

describe('ResumingWatch', () => {
  it('opens from the collection version and delivers changes in span 1; bookmarks and errors are not changes', async () => {
    const { source, changes, watch } = setUp();
    await watch.start();
    expect(source.opens).toEqual(['100']);
    expect(watch.span).toBe(1);
    source.last.event('ADDED', object('api', '101'));
    source.last.event('BOOKMARK', object('', '105'));
    source.last.event('MODIFIED', object('api', '106'));
    source.last.event('DELETED', object('api', '107'));
    expect(changes.map((c) => [c.type, (c.object as ReturnType<typeof object>).metadata.resourceVersion, c.span])).toEqual([
      ['ADDED', '101', 1],
      ['MODIFIED', '106', 1],
      ['DELETED', '107', 1],
    ]);
    watch.stop();
  });

  it('resumes a dropped stream from the last version seen, in the same span, without listing again', async () => {
    const { source, clock, watch } = setUp();
    await watch.start();
    source.last.event('MODIFIED', object('api', '120'));
    source.last.event('BOOKMARK', object('', '130'));
    source.last.closed(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    expect(watch.span).toBeUndefined();
    await clock.advance(0);
    expect(source.opens).toEqual(['100', '130']);
    expect(source.versions).toEqual(['100']);
    expect(watch.span).toBe(1);
    watch.stop();
  });

  it('starts afresh in a new span when the server has compacted the version away (410 as an event or as the answer)', async () => {
    const { source, clock, watch } = setUp();
    await watch.start();
    source.last.event('MODIFIED', object('api', '120'));
    source.collectionVersion = '500';
    source.last.event('ERROR', { kind: 'Status', code: 410, reason: 'Expired' });
    source.last.closed();
    await clock.advance(0);
    expect(source.opens).toEqual(['100', '500']);
    expect(watch.span).toBe(2);

    source.last.event('MODIFIED', object('api', '510'));
    source.refusals.push(status(410));
    source.collectionVersion = '900';
    source.last.closed();
    await clock.advance(0);
    expect(source.opens).toEqual(['100', '500', '510']);
    expect(watch.span).toBeUndefined();
    await clock.advance(250);
    expect(source.opens).toEqual(['100', '500', '510', '900']);
    expect(source.versions).toEqual(['100', '500', '900']);
    expect(watch.span).toBe(3);
    watch.stop();
  });

  it('keeps trying to reconnect with growing pauses while the API server is away', async () => {
    const { source, clock, watch } = setUp();
    await watch.start();
    source.refusals.push(status(503), Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), status(500));
    source.last.closed();
    await clock.advance(0);
    expect(source.opens).toHaveLength(2);
    await clock.advance(249);
    expect(source.opens).toHaveLength(2);
    await clock.advance(1);
    expect(source.opens).toHaveLength(3);
    await clock.advance(500);
    expect(source.opens).toHaveLength(4);
    expect(watch.span).toBeUndefined();
    await clock.advance(1_000);
    expect(source.opens).toHaveLength(5);
    expect(watch.span).toBe(1);
    watch.stop();
  });

  it('retries a transient failure to open the first stream (503, reset) before it gives up', async () => {
    const source = new ScriptedSource();
    source.refusals.push(status(503), Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    const { clock, watch } = setUp(source);
    const started = watch.start();
    // Backoff 250 ms, then 500 ms (less jitter), on the watch's clock.
    await clock.advance(750);
    await started;
    expect(source.opens).toEqual(['100', '100', '100']);
    expect(source.versions).toEqual(['100']);
    expect(watch.span).toBe(1);
    watch.stop();
  });

  it('re-opens a stream that sent nothing (no event, no bookmark) for the idle limit, from the last version, in the same span', async () => {
    const source = new ScriptedSource();
    const clock = new ManualClock();
    const watch = new ResumingWatch(source, () => undefined, { what: 'watch deployments.apps', logger: silentLogger(), clock, idleMs: 60_000 });
    await watch.start();
    await clock.advance(50_000);
    source.last.event('BOOKMARK', object('', '150'));
    // A bookmark is news: the limit counts from it.
    await clock.advance(59_999);
    expect(source.opens).toEqual(['100']);
    await clock.advance(1);
    expect(source.streams[0]?.closed).toBe(true);
    expect(source.opens).toEqual(['100', '150']);
    expect(source.versions).toEqual(['100']);
    expect(watch.span).toBe(1);
    // The silent stream, should it speak or end later, is ignored.
    source.streams[0]?.handlers.closed();
    await clock.advance(0);
    expect(source.opens).toHaveLength(2);
    // The new stream is watched the same way.
    await clock.advance(60_000);
    expect(source.opens).toEqual(['100', '150', '150']);
    watch.stop();
    await clock.advance(120_000);
    expect(source.opens).toHaveLength(3);
  });

  it('fails to start with what the API server answered (403), and does not retry', async () => {
    const source = new ScriptedSource();
    source.refusals.push(status(403));
    const { clock, watch } = setUp(source);
    await expect(watch.start()).rejects.toMatchObject({ code: 403 });
    await clock.advance(10_000);
    expect(source.opens).toHaveLength(1);
  });

  it('stop closes the stream and nothing reconnects, not even a stream that ends afterwards', async () => {
    const { source, clock, changes, watch } = setUp();
    await watch.start();
    const handlers = source.last;
    watch.stop();
    expect(source.streams[0]?.closed).toBe(true);
    handlers.event('MODIFIED', object('api', '140'));
    handlers.closed();
    await clock.advance(10_000);
    expect(source.opens).toHaveLength(1);
    expect(changes).toEqual([]);
    expect(watch.span).toBeUndefined();
  });

  it('an aborted run stops the watch', async () => {
    const source = new ScriptedSource();
    const clock = new ManualClock();
    const abort = new AbortController();
    const watch = new ResumingWatch(source, () => undefined, { what: 'watch deployments.apps', logger: silentLogger(), clock, signal: abort.signal });
    await watch.start();
    abort.abort('SIGTERM');
    await settle();
    expect(source.streams[0]?.closed).toBe(true);
    expect(watch.span).toBeUndefined();
  });
});
