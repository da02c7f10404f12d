// SPDX-License-Identifier: Apache-2.0
import { useEffect, useRef, useState } from 'react';
import { isReachable, onReachability } from './api.js';
import { on } from './bus.js';

/** Re-renders every intervalMs so relative times ("5 min ago") stay true. */
export function useNow(intervalMs = 30000) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs]);
  return now;
}

export function useReachable() {
  const [reachable, setReachable] = useState(isReachable);
  useEffect(() => onReachability(setReachable), []);
  return reachable;
}

/** Subscribes to a bus event with the latest handler, without resubscribing each render. */
export function useBus(type, handler) {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => on(type, (payload) => ref.current(payload)), [type]);
}

/**
 * Counts down from `seconds` (when set) to 0, once per second. A new `seconds` shows at once,
 * in the same render: the wait must never flash "now" before the timer starts.
 */
export function useCountdown(seconds) {
  const [state, setState] = useState({ seconds, left: seconds ?? 0 });
  let current = state;
  if (state.seconds !== seconds) {
    current = { seconds, left: seconds ?? 0 };
    setState(current);
  }
  useEffect(() => {
    if (!seconds) return undefined;
    const end = Date.now() + seconds * 1000;
    const t = setInterval(() => {
      const rest = Math.max(0, Math.ceil((end - Date.now()) / 1000));
      setState((s) => (s.seconds === seconds ? { seconds, left: rest } : s));
      if (rest === 0) clearInterval(t);
    }, 1000);
    return () => clearInterval(t);
  }, [seconds]);
  return current.left;
}
