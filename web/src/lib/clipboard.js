// SPDX-License-Identifier: Apache-2.0
import { announce } from './announce.js';

/** Copies text and says so in the live region; false when the browser refused. */
export async function copyText(text, what) {
  try {
    await navigator.clipboard.writeText(text);
    announce(`${what} copied to the clipboard.`);
    return true;
  } catch {
    announce(`Could not copy the ${what.toLowerCase()}; select it and copy it by hand.`);
    return false;
  }
}
