// SPDX-License-Identifier: Apache-2.0
import { useEffect, useRef } from 'react';
import { hasNavigated } from '../lib/router.js';

/** A page's h1: sets the document title and takes focus when the user moved here. */
export default function PageHeading({ title, children, className = '' }) {
  const ref = useRef(null);
  useEffect(() => {
    document.title = `${title} · storeagent`;
    if (hasNavigated()) ref.current?.focus();
  }, [title]);
  return (
    <h1 ref={ref} tabIndex={-1} className={`text-xl font-semibold text-slate-900 focus:outline-none ${className}`}>
      {children ?? title}
    </h1>
  );
}
