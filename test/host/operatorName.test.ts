import { describe, expect, test } from 'vitest';
import { resolveOperatorName } from '../../local/keys';

describe('resolveOperatorName', () => {
  test('defaults to local-operator', () => {
    expect(resolveOperatorName({})).toBe('local-operator');
  });

  test('uses LOCAL_OPERATOR_NAME', () => {
    expect(resolveOperatorName({ LOCAL_OPERATOR_NAME: 'Jane Doe' })).toBe('Jane Doe');
  });

  test.each(['', ' padded', 'line\nbreak', 'x'.repeat(257)])('rejects %j', (name) => {
    expect(() => resolveOperatorName({ LOCAL_OPERATOR_NAME: name })).toThrow('The setting LOCAL_OPERATOR_NAME must be 1 to 256 printable ASCII characters');
  });
});
