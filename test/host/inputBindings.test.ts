import { describe, expect, it } from 'vitest';
import { provideInputBindingData, type InputBindingProvider } from '../../local/functionsCore/invoker';
import type { RegisteredFunction } from '../../local/functionsCore/registry';

/** A function with an HTTP trigger, a durable client input, a blob input and an HTTP output. */
const fn: RegisteredFunction = {
  name: 'startOrder',
  bindings: {
    request: { type: 'httpTrigger', direction: 'in' },
    starter: { type: 'durableClient', direction: 'in' },
    archive: { type: 'blob', direction: 'in' },
    $return: { type: 'http', direction: 'out' },
  },
  handler: () => undefined,
  triggerBindingName: 'request',
  trigger: { type: 'httpTrigger', direction: 'in' },
};

const durableClientData: InputBindingProvider = () => ({ string: '{"taskHubName":"hub"}' });

describe('input binding data', () => {
  it('provides each input binding by name', () => {
    const providers = new Map([
      ['durableclient', durableClientData],
      ['blob', () => ({ string: 'archived' })],
    ]);

    expect(provideInputBindingData(fn, providers)).toEqual({ starter: { string: '{"taskHubName":"hub"}' }, archive: { string: 'archived' } });
  });

  it('binding type without provider is rejected', () => {
    const providers = new Map([['durableclient', durableClientData]]);

    expect(() => provideInputBindingData(fn, providers)).toThrow('Function "startOrder" has an input binding of type "blob", which the local host does not support.');
  });
});
