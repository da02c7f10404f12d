// SPDX-License-Identifier: Apache-2.0
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { setCsrfToken } from '../lib/api.js';
import CreateStoreForm from './CreateStoreForm.jsx';
import { apiError, json, mockFetch, store } from '../test/fetchMock.js';

const nameField = () => screen.getByLabelText('Store name');
const submit = () => userEvent.click(screen.getByRole('button', { name: 'Create store' }));

describe('CreateStoreForm', () => {
  it.each([
    ['Shop1', 'Use lowercase letters only.'],
    ['1shop', 'The name must start with a letter.'],
    ['shop-', 'The name must end with a letter or a digit.'],
    ['my_shop', 'Use only lowercase letters a-z, digits 0-9 and hyphens (-).'],
    ['a'.repeat(41), 'The name can be at most 40 characters long (it has 41).'],
  ])('refuses %j before asking the daemon', async (name, message) => {
    const { calls } = mockFetch({});
    render(<CreateStoreForm />);
    await userEvent.type(nameField(), name);
    await submit();
    expect(screen.getByTestId('create-name-error')).toHaveTextContent(message);
    expect(nameField()).toHaveAttribute('aria-invalid', 'true');
    expect(nameField()).toHaveAccessibleDescription(expect.stringContaining(message));
    expect(calls).toHaveLength(0);
  });

  it('asks for a name when it is empty', async () => {
    mockFetch({});
    render(<CreateStoreForm />);
    await submit();
    expect(screen.getByTestId('create-name-error')).toHaveTextContent('Enter a name for the store.');
    expect(nameField()).toHaveFocus();
  });

  it('creates the store with the CSRF token and clears the form', async () => {
    const created = store({ status: 'PROVISIONING', step: 'queued', progress: { current: 0, total: 6 } });
    const { calls } = mockFetch({ 'POST /api/v1/stores': json(202, created) });
    setCsrfToken('tok');
    const onCreated = vi.fn();
    render(<CreateStoreForm onCreated={onCreated} />);
    await userEvent.type(nameField(), 'shop1');
    await submit();
    await waitFor(() => expect(onCreated).toHaveBeenCalledWith(created));
    expect(calls[0]).toMatchObject({
      method: 'POST',
      path: '/api/v1/stores',
      body: { name: 'shop1', engine: 'woocommerce' },
    });
    expect(calls[0].body).not.toHaveProperty('settings');
    expect(calls[0].headers['X-CSRF-Token']).toBe('tok');
    expect(nameField()).toHaveValue('');
    expect(screen.getByRole('status')).toHaveTextContent('Creating shop1');
  });

  it("shows the daemon's message verbatim when the name is taken", async () => {
    mockFetch({ 'POST /api/v1/stores': apiError(409, 'name_taken', "A store named 'shop1' already exists.") });
    render(<CreateStoreForm />);
    await userEvent.type(nameField(), 'shop1');
    await submit();
    const alert = await screen.findByTestId('create-error');
    expect(alert).toHaveAttribute('role', 'alert');
    expect(screen.getByTestId('create-error-message').textContent).toBe("A store named 'shop1' already exists.");
    expect(alert).toHaveAttribute('data-code', 'name_taken');
    expect(nameField()).toHaveValue('shop1');
  });

  it('shows how long to wait when rate limited and holds the button until then', async () => {
    mockFetch({
      'POST /api/v1/stores': apiError(
        429,
        'creation_limited',
        'You created 5 stores in the last hour; the limit is 5.',
        {
          'Retry-After': '754',
        },
      ),
    });
    render(<CreateStoreForm />);
    await userEvent.type(nameField(), 'shop2');
    await submit();
    const alert = await screen.findByTestId('create-error');
    expect(alert).toHaveTextContent('You created 5 stores in the last hour; the limit is 5.');
    // The countdown ticks every second; a slow machine may already be a tick in.
    expect(alert).toHaveTextContent(/You can try again in 12 min 3[0-4] s\./);
    expect(screen.getByRole('button', { name: 'Create store' })).toBeDisabled();
  });

  it('says when the daemon is unreachable', async () => {
    mockFetch({ 'POST /api/v1/stores': 'network' });
    render(<CreateStoreForm />);
    await userEvent.type(nameField(), 'shop3');
    await submit();
    expect(await screen.findByTestId('create-error')).toHaveTextContent('The daemon is unreachable');
  });

  it('sends the shop settings given under "Shop settings (optional)", and only those', async () => {
    const { calls } = mockFetch({ 'POST /api/v1/stores': json(202, store({ status: 'PROVISIONING' })) });
    render(<CreateStoreForm />);
    const details = screen.getByTestId('create-settings');
    expect(details).not.toHaveAttribute('open');
    await userEvent.click(screen.getByText('Shop settings (optional)'));
    expect(details).toHaveAttribute('open');
    await userEvent.type(nameField(), 'shop4');
    await userEvent.type(screen.getByLabelText('Shop title'), ' Corner Shop ');
    await userEvent.type(screen.getByLabelText('Currency'), 'EUR');
    await submit();
    await waitFor(() => expect(calls).toHaveLength(1));
    expect(calls[0].body).toEqual({
      name: 'shop4',
      engine: 'woocommerce',
      settings: { title: 'Corner Shop', currency: 'EUR' },
    });
    // A created store's settings do not carry over to the next one.
    await waitFor(() => expect(screen.getByLabelText('Shop title')).toHaveValue(''));
  });
});
