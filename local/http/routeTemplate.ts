import { createRouteConstraint, type RouteConstraint } from './routeConstraints';

/**
 * Route templates of HTTP-triggered functions, with the ASP.NET Core syntax that Azure Functions
 * uses: literal segments, parameters `{id}`, optional `{id?}`, defaults `{id=5}`, catch-all
 * `{*path}`, inline constraints `{id:int:min(1)}`, several parameters in one segment
 * `{name}.{ext}`, and `{{` / `}}` for literal braces. Literals match case-insensitively.
 */

export interface RouteParameter {
  name: string;
  optional: boolean;
  catchAll: boolean;
  defaultValue: string | undefined;
  constraints: RouteConstraint[];
}

type SegmentPart = { kind: 'literal'; text: string } | { kind: 'parameter'; parameter: RouteParameter };

interface RouteSegment {
  parts: SegmentPart[];
  /** For a segment of several parts: a pattern with one capture group per parameter. */
  pattern?: RegExp;
}

export interface RouteTemplate {
  /** The template as registered, without leading and trailing slashes. */
  text: string;
  segments: RouteSegment[];
  /**
   * Sort key: one digit per segment, lower first (literal 1, several parts 2, constrained
   * parameter 3, parameter 4, catch-all 5), after the inbound precedence of ASP.NET Core routing.
   */
  precedence: number[];
}

/** Splits a template at the slashes that are outside braces. */
function splitSegments(text: string): string[] {
  const segments: string[] = [];
  let depth = 0;
  let current = '';
  for (const character of text) {
    if (character === '{') {
      depth += 1;
    } else if (character === '}') {
      depth = Math.max(0, depth - 1);
    }
    if (character === '/' && depth === 0) {
      segments.push(current);
      current = '';
    } else {
      current += character;
    }
  }
  segments.push(current);
  return segments;
}

/** Reads a constraint argument from `text[start]`, just after `(`, to the matching `)`. Returns it and the index after `)`. */
function readConstraintArgument(text: string, start: number): { argument: string; end: number } {
  let depth = 1;
  for (let index = start; index < text.length; index += 1) {
    const character = text[index];
    if (character === '\\') {
      index += 1;
    } else if (character === '(') {
      depth += 1;
    } else if (character === ')') {
      depth -= 1;
      if (depth === 0) {
        return { argument: text.slice(start, index), end: index + 1 };
      }
    }
  }
  throw new Error(`the constraint argument starting at "${text.slice(start - 1)}" has no closing parenthesis`);
}

/** Parses the text between the braces of a parameter, such as `id:int?` or `*path`. */
function parseParameter(text: string): RouteParameter {
  const catchAll = text.startsWith('*');
  const body = text.replace(/^\*{1,2}/, '');
  const nameMatch = /^[^:?=]+/.exec(body);
  if (!nameMatch || /[{}/*]/.test(nameMatch[0])) {
    throw new Error(`parameter "{${text}}" has no valid name`);
  }
  const parameter: RouteParameter = { name: nameMatch[0], optional: false, catchAll, defaultValue: undefined, constraints: [] };

  let index = nameMatch[0].length;
  while (index < body.length) {
    const character = body[index];
    if (character === '?' && index === body.length - 1) {
      parameter.optional = true;
      break;
    }
    if (character === '=') {
      parameter.defaultValue = body.slice(index + 1);
      break;
    }
    if (character !== ':') {
      throw new Error(`parameter "{${text}}" has an unexpected "${character}" at position ${index + 1}`);
    }
    const constraintName = /^[A-Za-z]+/.exec(body.slice(index + 1))?.[0];
    if (!constraintName) {
      throw new Error(`parameter "{${text}}" has an empty constraint name`);
    }
    index += 1 + constraintName.length;
    let argument: string | undefined;
    if (body[index] === '(') {
      const read = readConstraintArgument(body, index + 1);
      argument = read.argument;
      index = read.end;
    }
    parameter.constraints.push(createRouteConstraint(constraintName, argument));
  }

  if (parameter.optional && parameter.catchAll) {
    throw new Error(`catch-all parameter "{${text}}" cannot be optional, because it already matches an empty path`);
  }
  return parameter;
}

/** Parses one segment into literal and parameter parts, turning `{{` and `}}` into literal braces. */
function parseSegmentParts(segment: string): SegmentPart[] {
  const parts: SegmentPart[] = [];
  let literal = '';
  let index = 0;
  while (index < segment.length) {
    const character = segment[index];
    const next = segment[index + 1];
    if ((character === '{' || character === '}') && next === character) {
      literal += character;
      index += 2;
      continue;
    }
    if (character === '}') {
      throw new Error(`segment "${segment}" has a "}" without a matching "{"; write "}}" for a literal brace`);
    }
    if (character === '?') {
      throw new Error(`segment "${segment}" has a "?" outside a parameter, but a route template has no query string`);
    }
    if (character !== '{') {
      literal += character;
      index += 1;
      continue;
    }

    let parameterText = '';
    index += 1;
    while (index < segment.length && !(segment[index] === '}' && segment[index + 1] !== '}')) {
      const escaped = (segment[index] === '{' || segment[index] === '}') && segment[index + 1] === segment[index];
      parameterText += segment[index];
      index += escaped ? 2 : 1;
    }
    if (index >= segment.length) {
      throw new Error(`segment "${segment}" has a "{" without a closing "}"`);
    }
    index += 1;
    if (literal) {
      parts.push({ kind: 'literal', text: literal });
      literal = '';
    }
    if (parts.at(-1)?.kind === 'parameter') {
      throw new Error(`segment "${segment}" has two parameters without a literal between them`);
    }
    parts.push({ kind: 'parameter', parameter: parseParameter(parameterText) });
  }
  if (literal) {
    parts.push({ kind: 'literal', text: literal });
  }
  return parts;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Compiles a segment of several parts, such as `{name}.{ext?}`, into a pattern. Parameters are
 * greedy, so a literal separator matches at its last occurrence, as in ASP.NET Core. Only the
 * last parameter may be optional, and only after a literal ending in a period. It then matches
 * the text after the last period, and the parameters before it become lazy so that they leave it.
 */
function compileComplexSegment(segment: string, parts: SegmentPart[]): RegExp {
  const last = parts.at(-1);
  const hasOptionalTail = last?.kind === 'parameter' && last.parameter.optional;
  let source = '';
  parts.forEach((part, index) => {
    if (part.kind === 'literal') {
      const isBeforeOptionalTail = hasOptionalTail && index === parts.length - 2;
      source += isBeforeOptionalTail ? `(?:${escapeRegExp(part.text)}` : escapeRegExp(part.text);
      return;
    }
    const { parameter } = part;
    if (parameter.catchAll) {
      throw new Error(`segment "${segment}" combines a catch-all parameter with other parts`);
    }
    if (!parameter.optional) {
      source += hasOptionalTail ? '(.+?)' : '(.+)';
      return;
    }
    const previous = parts[index - 1];
    if (index !== parts.length - 1 || previous?.kind !== 'literal' || !previous.text.endsWith('.')) {
      throw new Error(`optional parameter "${parameter.name}" in segment "${segment}" must be the last part and follow a period`);
    }
    source += '([^.]+))?';
  });
  return new RegExp(`^${source}$`, 'is');
}

function singleParameter(segment: RouteSegment): RouteParameter | undefined {
  const [only] = segment.parts;
  return segment.parts.length === 1 && only.kind === 'parameter' ? only.parameter : undefined;
}

function segmentPrecedence(segment: RouteSegment): number {
  const parameter = singleParameter(segment);
  if (segment.parts.every((part) => part.kind === 'literal')) {
    return 1;
  }
  if (!parameter) {
    return 2;
  }
  if (parameter.catchAll) {
    return 5;
  }
  return parameter.constraints.length > 0 ? 3 : 4;
}

/** Checks what the matcher relies on: a catch-all only at the end, optional parameters only in trailing segments, unique names. */
function validateSegments(segments: RouteSegment[]): void {
  const names = new Set<string>();
  segments.forEach((segment, index) => {
    for (const part of segment.parts) {
      if (part.kind !== 'parameter') {
        continue;
      }
      const name = part.parameter.name.toLowerCase();
      if (names.has(name)) {
        throw new Error(`parameter "${part.parameter.name}" appears more than once`);
      }
      names.add(name);
      if (part.parameter.catchAll && index !== segments.length - 1) {
        throw new Error(`catch-all parameter "${part.parameter.name}" must be in the last segment`);
      }
    }
    const parameter = singleParameter(segment);
    const canBeOmitted = parameter !== undefined && (parameter.optional || parameter.defaultValue !== undefined || parameter.catchAll);
    const followedByRequired = segments.slice(index + 1).some((later) => {
      const laterParameter = singleParameter(later);
      return !laterParameter || !(laterParameter.optional || laterParameter.defaultValue !== undefined || laterParameter.catchAll);
    });
    if (canBeOmitted && followedByRequired) {
      throw new Error(`parameter "${parameter.name}" can be omitted, so every segment after it must be optional as well`);
    }
  });
}

/** Parses a route template, or throws an error that quotes the template and states what is wrong. */
export function parseRouteTemplate(template: string): RouteTemplate {
  const text = template.trim().replace(/^~?\/+/, '').replace(/\/+$/, '');
  try {
    const segments: RouteSegment[] = text === '' ? [] : splitSegments(text).map((segmentText) => {
      if (segmentText === '') {
        throw new Error('it has an empty segment ("//")');
      }
      const parts = parseSegmentParts(segmentText);
      const segment: RouteSegment = { parts };
      if (parts.length > 1 && parts.some((part) => part.kind === 'parameter')) {
        segment.pattern = compileComplexSegment(segmentText, parts);
      }
      return segment;
    });
    validateSegments(segments);
    return { text, segments, precedence: segments.map(segmentPrecedence) };
  } catch (error) {
    throw new Error(`Invalid route template "${template}": ${(error as Error).message}.`, { cause: error });
  }
}

function acceptValue(parameter: RouteParameter, value: string, values: Record<string, string>): boolean {
  if (!parameter.constraints.every((constraint) => constraint.test(value))) {
    return false;
  }
  values[parameter.name] = value;
  return true;
}

function matchSegment(segment: RouteSegment, pathSegment: string, values: Record<string, string>): boolean {
  const parameter = singleParameter(segment);
  if (parameter) {
    return pathSegment !== '' && acceptValue(parameter, pathSegment, values);
  }
  if (!segment.pattern) {
    const literal = segment.parts.map((part) => (part.kind === 'literal' ? part.text : '')).join('');
    return literal.toLowerCase() === pathSegment.toLowerCase();
  }

  const match = segment.pattern.exec(pathSegment);
  if (!match) {
    return false;
  }
  let group = 1;
  for (const part of segment.parts) {
    if (part.kind !== 'parameter') {
      continue;
    }
    const value = match[group] ?? part.parameter.defaultValue;
    group += 1;
    if (value !== undefined && !acceptValue(part.parameter, value, values)) {
      return false;
    }
  }
  return true;
}

/**
 * Matches decoded path segments (the path after the route prefix, split at `/`) against a
 * template. Returns the route values by parameter name, or undefined when the path does not match.
 * Omitted optional parameters are absent, and omitted parameters with a default get the default.
 */
export function matchRouteTemplate(template: RouteTemplate, pathSegments: string[]): Record<string, string> | undefined {
  const values: Record<string, string> = {};
  for (let index = 0; index < template.segments.length; index += 1) {
    const segment = template.segments[index];
    const parameter = singleParameter(segment);

    if (parameter?.catchAll) {
      const rest = pathSegments.slice(index).join('/');
      if (rest === '') {
        if (parameter.defaultValue !== undefined) {
          values[parameter.name] = parameter.defaultValue;
        }
        return values;
      }
      return acceptValue(parameter, rest, values) ? values : undefined;
    }

    if (index >= pathSegments.length) {
      if (!parameter || !(parameter.optional || parameter.defaultValue !== undefined)) {
        return undefined;
      }
      if (parameter.defaultValue !== undefined) {
        values[parameter.name] = parameter.defaultValue;
      }
      continue;
    }

    if (!matchSegment(segment, pathSegments[index], values)) {
      return undefined;
    }
  }
  return pathSegments.length > template.segments.length ? undefined : values;
}

/** Orders templates so that the more specific one is tried first. */
export function compareRoutePrecedence(first: RouteTemplate, second: RouteTemplate): number {
  const length = Math.max(first.precedence.length, second.precedence.length);
  for (let index = 0; index < length; index += 1) {
    const difference = (first.precedence[index] ?? 0) - (second.precedence[index] ?? 0);
    if (difference !== 0) {
      return difference;
    }
  }
  return first.text.localeCompare(second.text);
}
