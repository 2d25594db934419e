/**
 * Inline route constraints of Azure Functions HTTP routes (`{id:int}`, `{name:alpha}`,
 * `{code:regex(^[a-z]{{3}}$)}`, ...), which come from ASP.NET Core routing. A constraint tests
 * one decoded route value.
 */

export interface RouteConstraint {
  /** The constraint as written in the template, such as `minlength(3)`. */
  text: string;
  test(value: string): boolean;
}

const int32Range = { min: -(2n ** 31n), max: 2n ** 31n - 1n };
const int64Range = { min: -(2n ** 63n), max: 2n ** 63n - 1n };

/** Parses an integer the way .NET `TryParse` does with the invariant culture: sign and digits, surrounding white space allowed. */
function parseInteger(value: string, range: { min: bigint; max: bigint }): bigint | undefined {
  const text = value.trim();
  if (!/^[+-]?\d+$/.test(text)) {
    return undefined;
  }
  const parsed = BigInt(text);
  return parsed >= range.min && parsed <= range.max ? parsed : undefined;
}

const guidPatterns = [
  /^[0-9a-f]{32}$/i,
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  /^\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}$/i,
  /^\([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\)$/i,
];

const decimalPattern = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const floatingPointPattern = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const maxFloat32 = 3.4028234663852886e38;

function isFloatingPoint(value: string, maxMagnitude: number): boolean {
  const text = value.trim();
  return floatingPointPattern.test(text) && Math.abs(Number(text)) <= maxMagnitude;
}

function parseIntegerArguments(name: string, argument: string | undefined, count: number[]): bigint[] {
  const parts = argument === undefined ? [] : argument.split(',').map((part) => part.trim());
  const values = parts.map((part) => parseInteger(part, int64Range));
  if (!count.includes(parts.length) || values.some((value) => value === undefined)) {
    const expected = count.map((n) => `${n} integer argument${n === 1 ? '' : 's'}`).join(' or ');
    throw new Error(`Route constraint "${name}" expects ${expected}, but it has ${argument === undefined ? 'none' : `"${argument}"`}.`);
  }
  return values as bigint[];
}

function lengthConstraint(name: string, argument: string | undefined): (value: string) => boolean {
  const [first, second] = parseIntegerArguments(name, argument, name === 'length' ? [1, 2] : [1]);
  const bound = Number(first);
  switch (name) {
    case 'minlength':
      return (value) => value.length >= bound;
    case 'maxlength':
      return (value) => value.length <= bound;
    default:
      return second === undefined ? (value) => value.length === bound : (value) => value.length >= bound && value.length <= Number(second);
  }
}

function rangeConstraint(name: string, argument: string | undefined): (value: string) => boolean {
  const [first, second] = parseIntegerArguments(name, argument, name === 'range' ? [2] : [1]);
  return (value) => {
    const parsed = parseInteger(value, int64Range);
    if (parsed === undefined) {
      return false;
    }
    switch (name) {
      case 'min':
        return parsed >= first;
      case 'max':
        return parsed <= first;
      default:
        return parsed >= first && parsed <= second;
    }
  };
}

function regexConstraint(argument: string | undefined): (value: string) => boolean {
  if (argument === undefined || argument === '') {
    throw new Error('Route constraint "regex" needs a pattern, as in regex(^[a-z]+$).');
  }
  let pattern: RegExp;
  try {
    pattern = new RegExp(argument, 'i');
  } catch (error) {
    throw new Error(`Route constraint regex(${argument}) has an invalid pattern: ${(error as Error).message}.`, { cause: error });
  }
  // ASP.NET Core tests the pattern without anchoring it, so templates anchor with ^ and $ themselves.
  return (value) => pattern.test(value);
}

const argumentFreeConstraints: Record<string, (value: string) => boolean> = {
  int: (value) => parseInteger(value, int32Range) !== undefined,
  long: (value) => parseInteger(value, int64Range) !== undefined,
  bool: (value) => /^(true|false)$/i.test(value.trim()),
  alpha: (value) => /^[a-z]+$/i.test(value),
  guid: (value) => guidPatterns.some((pattern) => pattern.test(value.trim())),
  decimal: (value) => decimalPattern.test(value.trim()),
  double: (value) => isFloatingPoint(value, Number.MAX_VALUE),
  float: (value) => isFloatingPoint(value, maxFloat32),
  // NOTE: Date.parse accepts ISO 8601 and RFC 2822 dates, a different set than .NET DateTime.TryParse.
  datetime: (value) => !Number.isNaN(Date.parse(value)),
  required: (value) => value !== '',
};

const constraintsWithArguments: Record<string, (name: string, argument: string | undefined) => (value: string) => boolean> = {
  minlength: lengthConstraint,
  maxlength: lengthConstraint,
  length: lengthConstraint,
  min: rangeConstraint,
  max: rangeConstraint,
  range: rangeConstraint,
  regex: (_name, argument) => regexConstraint(argument),
};

export const supportedConstraintNames = [...Object.keys(argumentFreeConstraints), ...Object.keys(constraintsWithArguments)];

/** Creates the constraint `name` with its argument (the text inside the parentheses), or throws when it is unknown or invalid. */
export function createRouteConstraint(name: string, argument: string | undefined): RouteConstraint {
  const key = name.toLowerCase();
  const text = argument === undefined ? name : `${name}(${argument})`;
  const simple = argumentFreeConstraints[key];
  if (simple) {
    if (argument !== undefined) {
      throw new Error(`Route constraint "${name}" takes no argument, but it has "(${argument})".`);
    }
    return { text, test: simple };
  }
  const factory = constraintsWithArguments[key];
  if (!factory) {
    throw new Error(`Route constraint "${name}" is not supported. Supported constraints: ${supportedConstraintNames.join(', ')}.`);
  }
  return { text, test: factory(key, argument) };
}
