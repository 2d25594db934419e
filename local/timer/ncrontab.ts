/**
 * Six-field NCRONTAB expressions, the schedule format of Azure Functions timer triggers:
 * `{second} {minute} {hour} {day} {month} {day-of-week}`, evaluated in UTC.
 *
 * Each field is a comma-separated list of items. An item is `*`, a value (`5`) or a range
 * (`1-5`), optionally followed by a step (`/15`), as in `10-30/5`. A value with a step runs from
 * that value to the field's maximum, as in the NCrontab library that Azure Functions uses. Months and days of the week also accept English names and their prefixes of
 * at least three letters (`jan`, `March`, `mon`, `Thurs`), in any case. Day of the week runs
 * from 0 (Sunday) to 6 (Saturday). As in NCrontab, and unlike Unix cron, a time must match both
 * the day field and the day-of-week field.
 */

/** Raised for an expression that is not a valid six-field NCRONTAB expression. */
export class NcrontabFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NcrontabFormatError';
  }
}

/** The expected format, for error messages that tell the user how to fix a schedule. */
export const ncrontabFormatHint =
  'Expected six fields separated by spaces: {second} {minute} {hour} {day} {month} {day-of-week}, in UTC, for example "0 */5 * * * *" for every five minutes';

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  /** English names of the values from `min` upwards, or undefined when the field takes numbers only. */
  valueNames?: readonly string[];
  /** Description of the allowed values for error messages. */
  allowed: string;
}

const monthNames = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const dayOfWeekNames = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const fieldSpecs: readonly FieldSpec[] = [
  { name: 'second', min: 0, max: 59, allowed: '0 to 59' },
  { name: 'minute', min: 0, max: 59, allowed: '0 to 59' },
  { name: 'hour', min: 0, max: 23, allowed: '0 to 23' },
  { name: 'day', min: 1, max: 31, allowed: '1 to 31' },
  { name: 'month', min: 1, max: 12, valueNames: monthNames, allowed: '1 to 12 or a month name such as Jan' },
  { name: 'day-of-week', min: 0, max: 6, valueNames: dayOfWeekNames, allowed: '0 (Sunday) to 6 (Saturday) or a day name such as Mon' },
];

/** Shortest name prefix that is accepted, so that `Ju` cannot silently mean June. */
const minNamePrefixLength = 3;

/**
 * Days in 400 Gregorian years. The calendar, weekdays included, repeats after this many days,
 * so a schedule that has no occurrence within them has none at all.
 */
const daysInGregorianCycle = 146_097;
const millisecondsPerDay = 86_400_000;

function parseValue(text: string, spec: FieldSpec, item: string): number {
  let value: number;
  if (/^\d+$/.test(text)) {
    value = Number(text);
  } else {
    const lowerText = text.toLowerCase();
    const index =
      spec.valueNames && /^[a-z]+$/i.test(text) && text.length >= minNamePrefixLength
        ? spec.valueNames.findIndex((name) => name.toLowerCase().startsWith(lowerText))
        : -1;
    if (index < 0) {
      throw new NcrontabFormatError(`the ${spec.name} field contains "${item}", but "${text}" is not a value from ${spec.allowed}`);
    }
    value = spec.min + index;
  }
  if (value < spec.min || value > spec.max) {
    throw new NcrontabFormatError(`the ${spec.name} field contains "${item}", but ${value} is outside ${spec.allowed}`);
  }
  return value;
}

/** Adds the values that one list item of a field selects to `values`. */
function addItemValues(item: string, spec: FieldSpec, values: Set<number>): void {
  if (item === '') {
    throw new NcrontabFormatError(`the ${spec.name} field has an empty list item; remove the extra comma`);
  }
  const [base, stepText, ...rest] = item.split('/');
  if (rest.length > 0) {
    throw new NcrontabFormatError(`the ${spec.name} field contains "${item}", which has more than one "/"`);
  }

  let step = 1;
  if (stepText !== undefined) {
    if (!/^\d+$/.test(stepText) || Number(stepText) === 0) {
      throw new NcrontabFormatError(`the ${spec.name} field contains "${item}", but the step after "/" must be a positive integer`);
    }
    step = Number(stepText);
  }

  let first: number;
  let last: number;
  if (base === '*') {
    first = spec.min;
    last = spec.max;
  } else if (base.includes('-')) {
    const [firstText, lastText, ...extra] = base.split('-');
    if (extra.length > 0 || firstText === '' || lastText === '') {
      throw new NcrontabFormatError(`the ${spec.name} field contains "${item}", which is not a range of the form first-last`);
    }
    first = parseValue(firstText, spec, item);
    last = parseValue(lastText, spec, item);
    if (first > last) {
      throw new NcrontabFormatError(`the ${spec.name} field contains the range "${base}", whose start is after its end`);
    }
  } else {
    first = parseValue(base, spec, item);
    // A single value with a step runs to the field's maximum, as in NCrontab.
    last = stepText === undefined ? first : spec.max;
  }

  for (let value = first; value <= last; value += step) {
    values.add(value);
  }
}

/** Returns the sorted values that one field selects. */
function parseField(text: string, spec: FieldSpec): number[] {
  const values = new Set<number>();
  for (const item of text.split(',')) {
    addItemValues(item, spec, values);
  }
  return [...values].sort((first, second) => first - second);
}

/** Returns the first value in the sorted `values` that is at least `minimum`, or undefined. */
function firstAtLeast(values: readonly number[], minimum: number): number | undefined {
  return values.find((value) => value >= minimum);
}

export class NcrontabSchedule {
  readonly expression: string;
  readonly #seconds: number[];
  readonly #minutes: number[];
  readonly #hours: number[];
  readonly #days: Set<number>;
  readonly #months: Set<number>;
  readonly #daysOfWeek: Set<number>;

  /** Use `parseNcrontab`, which validates the expression. */
  constructor(expression: string, fields: number[][]) {
    this.expression = expression;
    [this.#seconds, this.#minutes, this.#hours] = fields;
    this.#days = new Set(fields[3]);
    this.#months = new Set(fields[4]);
    this.#daysOfWeek = new Set(fields[5]);
  }

  /**
   * Returns the first occurrence strictly after `after`, in UTC, or undefined when the schedule
   * never occurs (such as `0 0 0 30 2 *`, February 30).
   */
  nextOccurrence(after: Date): Date | undefined {
    // Occurrences fall on whole seconds, so the search starts at the first whole second after `after`.
    const start = new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000);
    const startDay = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate());

    for (let dayOffset = 0; dayOffset <= daysInGregorianCycle; dayOffset += 1) {
      const day = new Date(startDay + dayOffset * millisecondsPerDay);
      if (!this.#matchesDate(day)) {
        continue;
      }
      const earliest = dayOffset === 0 ? start : day;
      const time = this.#firstTimeOfDay(earliest.getUTCHours(), earliest.getUTCMinutes(), earliest.getUTCSeconds());
      if (time) {
        return new Date(day.getTime() + ((time.hour * 60 + time.minute) * 60 + time.second) * 1000);
      }
    }
    return undefined;
  }

  #matchesDate(day: Date): boolean {
    return this.#months.has(day.getUTCMonth() + 1) && this.#days.has(day.getUTCDate()) && this.#daysOfWeek.has(day.getUTCDay());
  }

  /** Returns the first scheduled time of day at or after hour:minute:second, or undefined when none is left that day. */
  #firstTimeOfDay(hour: number, minute: number, second: number): { hour: number; minute: number; second: number } | undefined {
    for (const candidateHour of this.#hours) {
      if (candidateHour < hour) {
        continue;
      }
      const minuteFloor = candidateHour === hour ? minute : 0;
      for (const candidateMinute of this.#minutes) {
        if (candidateMinute < minuteFloor) {
          continue;
        }
        const secondFloor = candidateHour === hour && candidateMinute === minute ? second : 0;
        const candidateSecond = firstAtLeast(this.#seconds, secondFloor);
        if (candidateSecond !== undefined) {
          return { hour: candidateHour, minute: candidateMinute, second: candidateSecond };
        }
      }
    }
    return undefined;
  }
}

/**
 * Parses a six-field NCRONTAB expression. Throws `NcrontabFormatError` with a message that names
 * the invalid field and value; the message does not repeat the expected format (`ncrontabFormatHint`).
 */
export function parseNcrontab(expression: string): NcrontabSchedule {
  const fieldTexts = expression.trim().split(/\s+/).filter((text) => text !== '');
  if (fieldTexts.length !== fieldSpecs.length) {
    throw new NcrontabFormatError(`it has ${fieldTexts.length} field${fieldTexts.length === 1 ? '' : 's'} instead of ${fieldSpecs.length}`);
  }
  const fields = fieldTexts.map((text, index) => parseField(text, fieldSpecs[index]));
  return new NcrontabSchedule(expression, fields);
}
