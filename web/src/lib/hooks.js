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

/** Counts down from `seconds` (when set) to 0, once per second. */
export function useCountdown(seconds) {
  const [left, setLeft] = useState(seconds ?? 0);
  useEffect(() => {
    setLeft(seconds ?? 0);
    if (!seconds) return undefined;
    const end = Date.now() + seconds * 1000;
    const t = setInterval(() => {
      const rest = Math.max(0, Math.ceil((end - Date.now()) / 1000));
      setLeft(rest);
      if (rest === 0) clearInterval(t);
    }, 1000);
    return () => clearInterval(t);
  }, [seconds]);
  return left;
}
