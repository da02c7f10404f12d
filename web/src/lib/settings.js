// SPDX-License-Identifier: Apache-2.0
// A store's settings as the chart takes them: the fields of the create form and the settings form.
export const SETTINGS_FIELDS = [
  { key: 'title', label: 'Shop title', placeholder: 'the store name', maxLength: 200 },
  { key: 'currency', label: 'Currency', placeholder: 'USD', pattern: '[A-Z]{3}', hint: 'ISO 4217, e.g. EUR' },
  {
    key: 'country',
    label: 'Country',
    placeholder: 'US:CA',
    pattern: '[A-Z]{2}(:[A-Z0-9\\-]{1,10})?',
    hint: 'e.g. DE or US:CA',
  },
  { key: 'admin_email', label: 'Admin e-mail', placeholder: 'admin@<host>', type: 'email', maxLength: 254 },
];
