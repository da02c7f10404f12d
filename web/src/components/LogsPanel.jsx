// SPDX-License-Identifier: Apache-2.0
// A store's logs: pick a pod's container, show its last lines, follow it live,
// download it whole. The view keeps a bounded number of lines, so a busy
// container followed for hours does not grow the page without end.
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { readTextStream, stores as storesApi } from '../lib/api.js';
import { announce } from '../lib/announce.js';
import ErrorNotice from './ErrorNotice.jsx';

export const MAX_LINES = 2000;
const TAILS = [100, 200, 500, 1000];

const keyOf = (pod, container) => `${pod}\u0000${container}`;

/** The first choice: the web pod's first container, else the first pod's. */
function defaultChoice(pods) {
  const web = pods.find((p) => p.component === 'web' && p.containers.length) ?? pods.find((p) => p.containers.length);
  return web ? keyOf(web.pod, web.containers[0]) : '';
}

export default function LogsPanel({ store }) {
  const id = useId();
  const [pods, setPods] = useState(null);
  const [choice, setChoice] = useState('');
  const [tail, setTail] = useState(200);
  const [follow, setFollow] = useState(false);
  const [text, setText] = useState('');
  const [state, setState] = useState('idle'); // idle, loading, following, ended
  const [error, setError] = useState(null);
  const view = useRef(null);
  const stuck = useRef(true); // the view follows the end unless the user scrolled up

  const loadSources = useCallback(async () => {
    try {
      const r = await storesApi.logSources(store.id);
      const list = r?.pods ?? [];
      setPods(list);
      setChoice((c) => c || defaultChoice(list));
      setError(null);
    } catch (err) {
      setError(err);
      setPods([]);
    }
  }, [store.id]);

  useEffect(() => {
    loadSources();
  }, [loadSources, store.status]);

  const [pod, container] = choice ? choice.split('\u0000') : [null, null];

  useEffect(() => {
    if (!pod) return undefined;
    const ctrl = new AbortController();
    let pending = '';
    setText('');
    setError(null);
    setState(follow ? 'following' : 'loading');
    const append = (chunk) => {
      pending += chunk;
      const lines = pending.split('\n');
      if (lines.length > MAX_LINES + 1) pending = lines.slice(-(MAX_LINES + 1)).join('\n');
      setText(pending);
    };
    readTextStream(storesApi.logUrl(store.id, pod, container, { tail, follow }), {
      signal: ctrl.signal,
      onText: append,
    })
      .then(() => setState('ended'))
      .catch((err) => {
        if (err?.name === 'AbortError') return;
        setError(err);
        setState('ended');
      });
    if (follow) announce(`Following the log of ${container}.`);
    return () => ctrl.abort();
  }, [store.id, pod, container, tail, follow]);

  useEffect(() => {
    const el = view.current;
    if (el && stuck.current) el.scrollTop = el.scrollHeight;
  }, [text]);

  const lineCount = text ? text.replace(/\n$/, '').split('\n').length : 0;

  return (
    <section className="card p-4 sm:p-5" aria-labelledby={`${id}-title`} data-testid="logs">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 id={`${id}-title`} className="text-base font-semibold text-slate-900">
          Logs
        </h2>
        {state === 'following' ? (
          <span className="text-xs font-medium whitespace-nowrap text-emerald-800" data-testid="logs-following">
            Following live
          </span>
        ) : null}
      </div>

      {pods && pods.length === 0 && !error ? (
        <p className="mt-2 text-sm text-slate-600" data-testid="logs-none">
          The store has no pods yet.
        </p>
      ) : null}

      {pods && pods.length ? (
        <div className="mt-3 flex flex-wrap items-end gap-3 text-sm">
          <label className="flex min-w-0 flex-col gap-1">
            <span className="text-slate-700">Container</span>
            <select
              className="field h-9 w-72 max-w-full"
              value={choice}
              onChange={(e) => setChoice(e.target.value)}
              data-testid="logs-container"
            >
              {pods.map((p) => (
                <optgroup key={p.pod} label={`${p.component ?? 'pod'}: ${p.pod}`}>
                  {[...p.containers, ...p.init_containers].map((c) => (
                    <option key={c} value={keyOf(p.pod, c)}>
                      {c}
                      {p.init_containers.includes(c) ? ' (init)' : ''}
                    </option>
                  ))}
                </optgroup>
              ))}
            </select>
          </label>
          <label className="flex flex-col gap-1">
            <span className="text-slate-700">Last lines</span>
            <select
              className="field h-9 w-24"
              value={tail}
              onChange={(e) => setTail(Number(e.target.value))}
              data-testid="logs-tail"
            >
              {TAILS.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </label>
          <label className="flex items-center gap-2 py-2">
            <input
              type="checkbox"
              checked={follow}
              onChange={(e) => setFollow(e.target.checked)}
              data-testid="logs-follow"
            />
            <span className="text-slate-700">Follow</span>
          </label>
          {pod ? (
            <a
              className="btn-secondary"
              href={storesApi.logUrl(store.id, pod, container, { tail: 0 })}
              download={`${store.name}-${pod}-${container}.log`}
              data-testid="logs-download"
            >
              Download<span className="sr-only"> the whole log of {container}</span>
            </a>
          ) : null}
        </div>
      ) : null}

      {pod ? (
        <pre
          ref={view}
          role="log"
          aria-label={`Log of ${container} in ${pod}`}
          tabIndex={0}
          onScroll={(e) => {
            const el = e.currentTarget;
            stuck.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
          }}
          className="mt-3 max-h-96 min-h-24 overflow-auto rounded-md bg-slate-900 p-3 font-mono text-xs whitespace-pre-wrap break-all text-slate-100 focus:outline-2 focus:outline-offset-2 focus:outline-sky-600"
          data-testid="logs-text"
          data-lines={lineCount}
        >
          {text || (state === 'loading' || state === 'following' ? 'Reading…' : 'The log is empty.')}
        </pre>
      ) : null}

      <ErrorNotice error={error} testId="logs-error" className={error ? 'mt-3' : ''} />
    </section>
  );
}
