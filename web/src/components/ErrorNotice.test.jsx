// SPDX-License-Identifier: Apache-2.0
import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../lib/api.js';
import ErrorNotice from './ErrorNotice.jsx';

describe('ErrorNotice', () => {
  it('says how long to wait once, not once in seconds and again as a countdown', () => {
    const err = new ApiError(
      429,
      'rate_limited',
      'Rate limit exceeded: 100 requests per 60 seconds; try again in 1740 seconds.',
      1740,
    );
    render(<ErrorNotice error={err} testId="e" />);
    expect(screen.getByTestId('e-message').textContent).toBe('Rate limit exceeded: 100 requests per 60 seconds.');
    expect(screen.getByTestId('e')).toHaveTextContent(/You can try again in 2[89] min/);
    expect(screen.getByTestId('e').textContent).not.toMatch(/1740/);
  });

  it("keeps the daemon's words when it gave no Retry-After", () => {
    const err = new ApiError(409, 'conflict', 'Busy; try again in 5 seconds.');
    render(<ErrorNotice error={err} testId="e" />);
    expect(screen.getByTestId('e-message').textContent).toBe('Busy; try again in 5 seconds.');
  });
});
