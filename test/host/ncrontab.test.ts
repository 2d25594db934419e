import { describe, expect, it } from 'vitest';
import { NcrontabFormatError, parseNcrontab } from '../../local/timer/ncrontab';

/** Returns the next occurrence of `expression` after the UTC time `after`, as an ISO string. */
function next(expression: string, after: string): string | undefined {
  return parseNcrontab(expression).nextOccurrence(new Date(after))?.toISOString();
}

/** Returns the next `count` occurrences of `expression` after `after`, as ISO strings. */
function occurrences(expression: string, after: string, count: number): string[] {
  const schedule = parseNcrontab(expression);
  const result: string[] = [];
  let current = new Date(after);
  for (let index = 0; index < count; index += 1) {
    const occurrence = schedule.nextOccurrence(current);
    if (!occurrence) {
      break;
    }
    result.push(occurrence.toISOString());
    current = occurrence;
  }
  return result;
}

function formatErrorOf(expression: string): NcrontabFormatError {
  try {
    parseNcrontab(expression);
  } catch (error) {
    if (error instanceof NcrontabFormatError) {
      return error;
    }
    throw error;
  }
  throw new Error(`parseNcrontab accepted "${expression}".`);
}

describe('ncrontab next occurrence', () => {
  it('wildcards run every second', () => {
    expect(next('* * * * * *', '2026-12-04T12:00:00.500Z')).toBe('2026-12-04T12:00:01.000Z');
  });

  it('occurrence is strictly after the given time', () => {
    expect(next('* * * * * *', '2026-12-04T12:00:00.000Z')).toBe('2026-12-04T12:00:01.000Z');
  });

  it('step on wildcard counts from the minimum', () => {
    expect(occurrences('*/15 * * * * *', '2026-12-04T12:00:16Z', 3)).toEqual([
      '2026-12-04T12:00:30.000Z',
      '2026-12-04T12:00:45.000Z',
      '2026-12-04T12:01:00.000Z',
    ]);
  });

  it('every five minutes', () => {
    expect(next('0 */5 * * * *', '2026-12-04T12:03:10Z')).toBe('2026-12-04T12:05:00.000Z');
  });

  it('single value', () => {
    expect(next('30 * * * * *', '2026-12-04T12:00:31Z')).toBe('2026-12-04T12:01:30.000Z');
  });

  it('range continues on the next day', () => {
    expect(next('0 0 9-17 * * *', '2026-12-04T18:00:00Z')).toBe('2026-12-05T09:00:00.000Z');
  });

  it('range with step', () => {
    expect(occurrences('0 0 10-20/5 * * *', '2026-12-04T00:00:00Z', 4)).toEqual([
      '2026-12-04T10:00:00.000Z',
      '2026-12-04T15:00:00.000Z',
      '2026-12-04T20:00:00.000Z',
      '2026-12-05T10:00:00.000Z',
    ]);
  });

  it('value with step runs to the maximum', () => {
    expect(occurrences('10/20 * * * * *', '2026-12-04T12:00:00Z', 4)).toEqual([
      '2026-12-04T12:00:10.000Z',
      '2026-12-04T12:00:30.000Z',
      '2026-12-04T12:00:50.000Z',
      '2026-12-04T12:01:10.000Z',
    ]);
  });

  it('list of values', () => {
    expect(next('0 0 0 1,15 * *', '2026-01-02T00:00:00Z')).toBe('2026-01-15T00:00:00.000Z');
  });

  it('list mixes values, ranges and steps', () => {
    expect(occurrences('0 0,10-12,50/5 * * * *', '2026-12-04T12:00:30Z', 6)).toEqual([
      '2026-12-04T12:10:00.000Z',
      '2026-12-04T12:11:00.000Z',
      '2026-12-04T12:12:00.000Z',
      '2026-12-04T12:50:00.000Z',
      '2026-12-04T12:55:00.000Z',
      '2026-12-04T13:00:00.000Z',
    ]);
  });

  it('month names and abbreviations', () => {
    expect(occurrences('0 0 0 1 Jan,July,sept *', '2026-02-01T00:00:00Z', 3)).toEqual([
      '2026-07-01T00:00:00.000Z',
      '2026-09-01T00:00:00.000Z',
      '2027-01-01T00:00:00.000Z',
    ]);
  });

  it('day-of-week range of names', () => {
    // 2026-12-05 is a Saturday.
    expect(next('0 30 9 * * Mon-Fri', '2026-12-05T10:00:00Z')).toBe('2026-12-07T09:30:00.000Z');
  });

  it('day-of-week names ignore case', () => {
    expect(next('0 30 9 * * SATURDAY', '2026-12-01T00:00:00Z')).toBe('2026-12-05T09:30:00.000Z');
  });

  it('day-of-week 0 is Sunday', () => {
    expect(next('0 0 0 * * 0', '2026-12-05T00:00:00Z')).toBe('2026-12-06T00:00:00.000Z');
  });

  it('day and day-of-week must both match', () => {
    // Friday the 13th: 2026-02-13 is the first after 2026-01-01.
    expect(next('0 0 0 13 * Fri', '2026-01-01T00:00:00Z')).toBe('2026-02-13T00:00:00.000Z');
  });

  it('day 31 skips shorter months', () => {
    expect(next('0 0 0 31 * *', '2026-04-01T00:00:00Z')).toBe('2026-05-31T00:00:00.000Z');
  });

  it('February 29 waits for a leap year', () => {
    expect(next('0 0 0 29 2 *', '2026-03-01T00:00:00Z')).toBe('2028-02-29T00:00:00.000Z');
  });

  it('year changes after December 31', () => {
    expect(next('0 0 0 1 1 *', '2026-12-31T23:59:59.500Z')).toBe('2027-01-01T00:00:00.000Z');
  });

  it('extra whitespace between fields', () => {
    expect(next('  0\t0  12 * *  * ', '2026-12-04T00:00:00Z')).toBe('2026-12-04T12:00:00.000Z');
  });

  it('impossible date never occurs', () => {
    expect(next('0 0 0 30 2 *', '2026-01-01T00:00:00Z')).toBeUndefined();
  });

  it('expression is kept as given', () => {
    expect(parseNcrontab('0 */5 * * * *').expression).toBe('0 */5 * * * *');
  });
});

describe('ncrontab invalid expressions', () => {
  it.each([
    ['0 */5 * * *', 'it has 5 fields instead of 6'],
    ['0 0 */5 * * * *', 'it has 7 fields instead of 6'],
    ['', 'it has 0 fields instead of 6'],
  ])('field count of "%s"', (expression, message) => {
    expect(formatErrorOf(expression).message).toBe(message);
  });

  it.each([
    ['60 * * * * *', 'second', '60 is outside 0 to 59'],
    ['* 60 * * * *', 'minute', '60 is outside 0 to 59'],
    ['* * 24 * * *', 'hour', '24 is outside 0 to 23'],
    ['* * * 0 * *', 'day', '0 is outside 1 to 31'],
    ['* * * 32 * *', 'day', '32 is outside 1 to 31'],
    ['* * * * 0 *', 'month', '0 is outside 1 to 12'],
    ['* * * * 13 *', 'month', '13 is outside 1 to 12'],
    ['* * * * * 7', 'day-of-week', '7 is outside 0 (Sunday) to 6 (Saturday)'],
    ['* * * * * 1-9', 'day-of-week', '9 is outside 0 (Sunday) to 6 (Saturday)'],
  ])('out-of-range value in "%s"', (expression, field, detail) => {
    const message = formatErrorOf(expression).message;
    expect(message).toContain(`the ${field} field`);
    expect(message).toContain(detail);
  });

  it.each([
    ['*/0 * * * * *', 'the step after "/" must be a positive integer'],
    ['*/x * * * * *', 'the step after "/" must be a positive integer'],
    ['*/ * * * * *', 'the step after "/" must be a positive integer'],
    ['*/2/3 * * * * *', 'has more than one "/"'],
    ['5-1 * * * * *', 'whose start is after its end'],
    ['1,,2 * * * * *', 'empty list item'],
    ['1, * * * * *', 'empty list item'],
    ['-1 * * * * *', 'not a range of the form first-last'],
    ['1-2-3 * * * * *', 'not a range of the form first-last'],
    ['? * * * * *', '"?" is not a value from 0 to 59'],
    ['1.5 * * * * *', '"1.5" is not a value from 0 to 59'],
  ])('malformed item in "%s"', (expression, detail) => {
    expect(formatErrorOf(expression).message).toContain(detail);
  });

  it.each([
    ['* * * * Foo *', 'month', '"Foo"'],
    ['* * * * Ju *', 'month', '"Ju"'],
    ['* * * * * Funday', 'day-of-week', '"Funday"'],
    ['0 0 Mon * * *', 'hour', '"Mon"'],
  ])('unknown or short name in "%s"', (expression, field, name) => {
    const message = formatErrorOf(expression).message;
    expect(message).toContain(`the ${field} field`);
    expect(message).toContain(`${name} is not a value from`);
  });
});
