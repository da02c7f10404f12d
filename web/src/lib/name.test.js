// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { validateStoreName } from './name.js';

describe('validateStoreName', () => {
  it.each(['a', 'shop1', 'my-shop-2', 'x'.repeat(40), 'a-b', 'a1'])('accepts %s', (name) => {
    expect(validateStoreName(name)).toBeNull();
  });

  it.each([
    ['', 'Enter a name'],
    ['x'.repeat(41), 'at most 40 characters'],
    ['Shop', 'lowercase letters only'],
    ['my_shop', 'Use only lowercase letters a-z'],
    ['shop 1', 'Use only lowercase letters a-z'],
    ['shöp', 'Use only lowercase letters a-z'],
    ['1shop', 'start with a letter'],
    ['-shop', 'start with a letter'],
    ['shop-', 'end with a letter or a digit'],
  ])('refuses %j', (name, message) => {
    expect(validateStoreName(name)).toContain(message);
  });
});
