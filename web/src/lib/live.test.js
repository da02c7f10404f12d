// SPDX-License-Identifier: Apache-2.0
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { on } from './bus.js';
import { LiveConnection } from './live.js';
import { FakeEventSource, store } from '../test/fetchMock.js';

describe('LiveConnection', () => {
  let offs = [];
  beforeEach(() => {
    vi.useFakeTimers();
    FakeEventSource.instances = [];
  });
  afterEach(() => {
    offs.forEach((off) => off());
    offs = [];
    vi.useRealTimers();
  });

  function listen() {
    const got = { store: [], refresh: 0 };
    offs.push(on('store', (s) => got.store.push(s)));
    offs.push(on('refresh', () => (got.refresh += 1)));
    return got;
  }

  it('passes store events on and reports live', () => {
    const got = listen();
    const modes = [];
    const live = new LiveConnection({ EventSourceImpl: FakeEventSource, onMode: (m) => modes.push(m) });
    live.start();
    const es = FakeEventSource.latest();
    expect(es.url).toBe('/api/v1/stream');
    es.dispatch('open');
    es.dispatch('store', store({ status: 'PROVISIONING' }));
    es.dispatch('store', 'not json{');
    expect(got.store).toHaveLength(1);
    expect(got.store[0].status).toBe('PROVISIONING');
    expect(modes).toEqual(['live']);
    live.stop();
    expect(es.closed).toBe(true);
  });

  it('polls every 3 s while the stream is down and retries it with backoff', () => {
    const got = listen();
    const modes = [];
    const live = new LiveConnection({
      EventSourceImpl: FakeEventSource,
      onMode: (m) => modes.push(m),
      backoffMs: [1000, 5000],
    });
    live.start();
    FakeEventSource.latest().dispatch('error');
    expect(modes).toEqual(['polling']);
    expect(FakeEventSource.latest().closed).toBe(true);
    expect(got.refresh).toBe(1);

    vi.advanceTimersByTime(1000); // first reconnect
    expect(FakeEventSource.instances).toHaveLength(2);
    FakeEventSource.latest().dispatch('error');
    vi.advanceTimersByTime(3000);
    expect(got.refresh).toBeGreaterThanOrEqual(2);
    expect(FakeEventSource.instances).toHaveLength(2); // backoff now 5 s
    vi.advanceTimersByTime(2000);
    expect(FakeEventSource.instances).toHaveLength(3);

    const before = got.refresh;
    FakeEventSource.latest().dispatch('open');
    expect(modes.at(-1)).toBe('live');
    expect(got.refresh).toBe(before + 1); // catch up on what was missed
    vi.advanceTimersByTime(10000);
    expect(got.refresh).toBe(before + 1); // polling stopped
    live.stop();
  });

  it('treats a silent stream as dropped', () => {
    const modes = [];
    const live = new LiveConnection({
      EventSourceImpl: FakeEventSource,
      onMode: (m) => modes.push(m),
      silenceMs: 45000,
    });
    live.start();
    const es = FakeEventSource.latest();
    es.dispatch('open');
    vi.advanceTimersByTime(30000);
    es.dispatch('ping');
    vi.advanceTimersByTime(30000);
    expect(modes).toEqual(['live']);
    vi.advanceTimersByTime(20000);
    expect(modes).toEqual(['live', 'polling']);
    expect(es.closed).toBe(true);
    live.stop();
  });

  it('polls when the browser has no EventSource', () => {
    const got = listen();
    const live = new LiveConnection({ EventSourceImpl: undefined });
    live.start();
    vi.advanceTimersByTime(6000);
    expect(got.refresh).toBe(3);
    live.stop();
  });
});

describe('LiveConnection when rate limited', () => {
  it('skips polling ticks while the daemon asks to hold off', () => {
    vi.useFakeTimers();
    let refresh = 0;
    const off = on('refresh', () => (refresh += 1));
    let hold = true;
    const live = new LiveConnection({ EventSourceImpl: undefined, holdOff: () => hold });
    live.start();
    expect(refresh).toBe(1);
    vi.advanceTimersByTime(9000);
    expect(refresh).toBe(1);
    hold = false;
    vi.advanceTimersByTime(3000);
    expect(refresh).toBe(2);
    live.stop();
    off();
    vi.useRealTimers();
  });
});
