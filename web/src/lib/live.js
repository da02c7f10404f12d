// SPDX-License-Identifier: Apache-2.0
// Live updates: one EventSource on /api/v1/stream. When it drops, views are
// asked to refetch every few seconds (polling) while the stream is retried
// with backoff. A stream that stays silent past a few missed pings is treated
// as dropped, so a half-open connection cannot freeze the dashboard.
import { useEffect, useState } from 'react';
import { rateLimitedUntilMs } from './api.js';
import { emit } from './bus.js';

export const STREAM_URL = '/api/v1/stream';

export class LiveConnection {
  constructor({
    url = STREAM_URL,
    pollMs = 3000,
    backoffMs = [1000, 2000, 5000, 10000, 30000],
    silenceMs = 45000,
    EventSourceImpl = globalThis.EventSource,
    onMode = () => {},
    // Polling must not dig a rate-limited client deeper: skip ticks until Retry-After passes.
    holdOff = () => Date.now() < rateLimitedUntilMs(),
  } = {}) {
    Object.assign(this, { url, pollMs, backoffMs, silenceMs, EventSourceImpl, onMode, holdOff });
    this.es = null;
    this.attempt = 0;
    this.pollTimer = null;
    this.retryTimer = null;
    this.watchdog = null;
    this.mode = 'connecting';
    this.hadOutage = false;
    this.stopped = false;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    this.closeStream();
    this.stopPolling();
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  setMode(mode) {
    if (mode === this.mode) return;
    this.mode = mode;
    this.onMode(mode);
  }

  connect() {
    if (this.stopped) return;
    if (!this.EventSourceImpl) {
      this.startPolling();
      return;
    }
    let es;
    try {
      es = new this.EventSourceImpl(this.url);
    } catch {
      this.fail();
      return;
    }
    this.es = es;
    es.addEventListener('open', () => {
      this.attempt = 0;
      this.stopPolling();
      this.setMode('live');
      this.kick();
      // Whatever changed while we were away was not streamed to us.
      if (this.hadOutage) emit('refresh');
      this.hadOutage = false;
    });
    es.addEventListener('store', (e) => {
      this.kick();
      let store;
      try {
        store = JSON.parse(e.data);
      } catch {
        return;
      }
      if (store && typeof store === 'object' && store.id) emit('store', store);
    });
    es.addEventListener('ping', () => this.kick());
    es.addEventListener('error', () => this.fail());
  }

  kick() {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.fail(), this.silenceMs);
  }

  closeStream() {
    clearTimeout(this.watchdog);
    this.watchdog = null;
    if (this.es) {
      this.es.close();
      this.es = null;
    }
  }

  fail() {
    if (this.stopped) return;
    this.closeStream();
    this.hadOutage = true;
    this.startPolling();
    clearTimeout(this.retryTimer);
    const delay = this.backoffMs[Math.min(this.attempt, this.backoffMs.length - 1)];
    this.attempt += 1;
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  startPolling() {
    this.setMode('polling');
    if (this.pollTimer) return;
    emit('refresh');
    this.pollTimer = setInterval(() => {
      if (!this.holdOff()) emit('refresh');
    }, this.pollMs);
  }

  stopPolling() {
    clearInterval(this.pollTimer);
    this.pollTimer = null;
  }
}

/** Runs the live connection while mounted; returns 'connecting' | 'live' | 'polling'. */
export function useLiveConnection(enabled = true) {
  const [mode, setMode] = useState('connecting');
  useEffect(() => {
    if (!enabled) return undefined;
    const live = new LiveConnection({ onMode: setMode });
    live.start();
    return () => live.stop();
  }, [enabled]);
  return mode;
}
