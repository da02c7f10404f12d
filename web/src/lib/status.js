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
