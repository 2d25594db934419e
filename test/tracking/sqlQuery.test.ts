import { Request, TYPES } from 'tedious';
import { describe, expect, it } from 'vitest';

import { addParameters, bigInteger, entityVersion, fromUtcTime, integer, text, utcTime } from '../../lib/tracking/sql/sqlQuery';

interface AddedParameter {
  name: string;
  type: unknown;
  value: unknown;
  options: unknown;
}

function recordAddedParameters(parameters: Parameters<typeof addParameters>[1]): AddedParameter[] {
  const added: AddedParameter[] = [];
  const request = new Request('SELECT 1', () => undefined);
  request.addParameter = (name, type, value, options) => {
    added.push({ name, type, value, options });
  };
  addParameters(request, parameters);
  return added;
}

describe('SQL parameters', () => {
  it('each helper binds its tedious type', () => {
    const added = recordAddedParameters([text('messageId', 'orders-1'), integer('attempts', 3), bigInteger('since', 42), utcTime('receivedAt', '2026-12-04T12:00:00.000Z')]);

    expect(added.map((parameter) => parameter.type)).toEqual([TYPES.NVarChar, TYPES.Int, TYPES.BigInt, TYPES.DateTime2]);
  });

  it('datetime2 parameter uses scale 3', () => {
    const [added] = recordAddedParameters([utcTime('receivedAt', '2026-12-04T12:00:00.000Z')]);

    expect(added?.options).toEqual({ scale: 3 });
  });

  it('ISO string becomes the same instant', () => {
    const parameter = utcTime('receivedAt', '2026-12-04T12:34:56.789Z');

    expect((parameter.value as Date).getTime()).toBe(Date.UTC(2026, 11, 4, 12, 34, 56, 789));
  });

  it('offset time is converted to UTC', () => {
    const parameter = utcTime('receivedAt', '2026-12-04T13:00:00+01:00');

    expect((parameter.value as Date).toISOString()).toBe('2026-12-04T12:00:00.000Z');
  });

  it('numeric entity version binds float', () => {
    expect(entityVersion('version', 3).type).toBe('float');
  });

  it('string entity version binds nvarchar', () => {
    expect(entityVersion('version', '2026-12-04').type).toBe('nvarchar');
  });

  it('undefined binds NULL', () => {
    const added = recordAddedParameters([text('reason', undefined), utcTime('completedAt', undefined), integer('statusCode', undefined)]);

    expect(added.map((parameter) => parameter.value)).toEqual([null, null, null]);
  });

  it('invalid time is rejected', () => {
    expect(() => utcTime('receivedAt', 'yesterday')).toThrow('Parameter @receivedAt is "yesterday", but it must be an ISO 8601 time such as 2026-12-04T12:00:00.000Z.');
  });

  it('datetime2 column becomes an ISO string', () => {
    expect(fromUtcTime(new Date(Date.UTC(2026, 11, 4, 12, 0, 0, 5)))).toBe('2026-12-04T12:00:00.005Z');
  });

  it('NULL datetime2 column is undefined', () => {
    expect(fromUtcTime(null)).toBeUndefined();
  });

  it('string datetime2 column is rejected', () => {
    expect(() => fromUtcTime('2026-12-04')).toThrow('A datetime2 column returned string, but a Date was expected. Check that the connection sets useUTC.');
  });
});
