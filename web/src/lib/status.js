// SPDX-License-Identifier: Apache-2.0

export const STATUSES = ['PROVISIONING', 'READY', 'FAILED', 'UPGRADING', 'DELETING', 'DELETED'];

/** States in which an operation runs and the store shows its step and progress. */
export const BUSY = new Set(['PROVISIONING', 'UPGRADING', 'DELETING']);

export const STATUS_LABEL = {
  PROVISIONING: 'Provisioning',
  READY: 'Ready',
  FAILED: 'Failed',
  UPGRADING: 'Upgrading',
  DELETING: 'Deleting',
  DELETED: 'Deleted',
};

/**
 * Whether `incoming` is an older copy of a store than `current`. Times have a resolution of a
 * second, so two copies of the same second are told apart by how far the operation got: the
 * create answer ("queued", step 0) can arrive after the stream's first step of that second.
 */
export function isStale(current, incoming) {
  const a = current?.updated_at ?? '';
  const b = incoming?.updated_at ?? '';
  if (a !== b) return a > b;
  return current?.status === incoming?.status && (current?.progress?.current ?? 0) > (incoming?.progress?.current ?? 0);
}
