// SPDX-License-Identifier: Apache-2.0
// In-page fan-out of live updates. 'store' carries a Store object from the
// stream; 'refresh' asks every view to refetch what it shows (polling, reconnect).

const handlers = new Map();

export function on(type, fn) {
  if (!handlers.has(type)) handlers.set(type, new Set());
  handlers.get(type).add(fn);
  return () => handlers.get(type)?.delete(fn);
}

export function emit(type, payload) {
  for (const fn of handlers.get(type) ?? []) {
    try {
      fn(payload);
    } catch (err) {
      console.error(err);
    }
  }
}
