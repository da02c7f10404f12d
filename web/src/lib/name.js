// SPDX-License-Identifier: Apache-2.0
// Mirrors the daemon's store name rules so the form can say what is wrong
// before a request is made. The daemon stays the authority.

export const NAME_MAX = 40;

/** Returns null when the name is acceptable, else a sentence saying what to fix. */
export function validateStoreName(name) {
  if (name.length === 0) return 'Enter a name for the store.';
  if (name.length > NAME_MAX) return `The name can be at most ${NAME_MAX} characters long (it has ${name.length}).`;
  if (/[A-Z]/.test(name) && /^[A-Za-z0-9-]+$/.test(name)) return 'Use lowercase letters only.';
  if (!/^[a-z0-9-]+$/.test(name)) return 'Use only lowercase letters a-z, digits 0-9 and hyphens (-).';
  if (!/^[a-z]/.test(name)) return 'The name must start with a letter.';
  if (!/[a-z0-9]$/.test(name)) return 'The name must end with a letter or a digit.';
  return null;
}
