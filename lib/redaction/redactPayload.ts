import { redactedText, SecretScrubber } from './secretScrubber';

/**
 * Splits a JSON pointer (RFC 6901) into its reference tokens, with `~1` decoded to `/` and `~0`
 * to `~`. Throws an Error that names the problem when `pointer` is not a valid pointer or is the
 * empty pointer, which would select the whole payload.
 */
export function parseJsonPointer(pointer: string): string[] {
  if (pointer === '') {
    throw new Error('the empty pointer selects the whole payload');
  }
  if (!pointer.startsWith('/')) {
    throw new Error('a JSON pointer must start with "/"');
  }
  if (/~(?![01])/.test(pointer)) {
    throw new Error('"~" must be written as "~0", and "/" inside a property name as "~1"');
  }
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'));
}

const arrayIndexPattern = /^(0|[1-9][0-9]*)$/;

/** Looks up the child of `container` that `token` names. Only an own property or an index below the length counts. */
function childOf(container: unknown, token: string): { found: true; value: unknown } | { found: false } {
  if (Array.isArray(container)) {
    if (!arrayIndexPattern.test(token) || Number(token) >= container.length) {
      return { found: false };
    }
    return { found: true, value: container[Number(token)] };
  }
  if (typeof container === 'object' && container !== null && Object.hasOwn(container, token)) {
    return { found: true, value: (container as Record<string, unknown>)[token] };
  }
  return { found: false };
}

/**
 * Returns a copy of `value` in which the value at each pointer is replaced by `"[redacted]"`.
 * A pointer that selects nothing in this payload is skipped. `value` itself is not changed.
 */
export function redactPayload(value: unknown, pointers: readonly string[]): unknown {
  let redacted = value;
  for (const pointer of pointers) {
    redacted = replaceAt(redacted, parseJsonPointer(pointer));
  }
  return redacted;
}

/** Returns `value` with the value at `tokens` replaced, copying only the containers on the way. */
function replaceAt(value: unknown, tokens: readonly string[]): unknown {
  if (tokens.length === 0) {
    return redactedText;
  }

  const [token, ...rest] = tokens;
  const child = childOf(value, token);
  if (!child.found) {
    return value;
  }

  const replacement = replaceAt(child.value, rest);
  if (Array.isArray(value)) {
    const copy = [...value];
    copy[Number(token)] = replacement;
    return copy;
  }
  return { ...(value as Record<string, unknown>), [token]: replacement };
}

/**
 * Returns the text of every string, number and boolean at the pointers, including those nested
 * inside an object or array that a pointer selects.
 */
export function listValuesAtPointers(value: unknown, pointers: readonly string[]): string[] {
  const values: string[] = [];
  for (const pointer of pointers) {
    let current: unknown = value;
    let found = true;
    for (const token of parseJsonPointer(pointer)) {
      const child = childOf(current, token);
      if (!child.found) {
        found = false;
        break;
      }
      current = child.value;
    }
    if (found) {
      collectScalars(current, values);
    }
  }
  return values;
}

function collectScalars(value: unknown, values: string[]): void {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    values.push(String(value));
  } else if (Array.isArray(value)) {
    value.forEach((item) => collectScalars(item, values));
  } else if (typeof value === 'object' && value !== null) {
    Object.values(value).forEach((item) => collectScalars(item, values));
  }
}

/**
 * Minimum length of a redacted value that is also replaced inside longer text. A shorter value,
 * such as `true` or `42`, would match unrelated text, so it is replaced only where a whole
 * string equals it.
 */
export const minScrubbedSubstringLength = 4;

/** Replaces the redacted values of one payload in text about that payload. */
export interface PayloadScrubber {
  /** Returns `text` with every redacted value replaced by `[redacted]`. */
  scrub(text: string): string;
}

export const identityPayloadScrubber: PayloadScrubber = { scrub: (text) => text };

/**
 * Creates a scrubber from the values at `pointers` in `payload`. A text equal to one of them
 * becomes `[redacted]`, and occurrences inside longer text are replaced for values of at least
 * `minScrubbedSubstringLength` characters.
 * NOTE: a value that an expression changed on the way, such as an upper-cased e-mail address,
 * is not recognised.
 */
export function createPayloadScrubber(payload: unknown, pointers: readonly string[]): PayloadScrubber {
  const values = new Set(listValuesAtPointers(payload, pointers).filter((value) => value !== ''));
  if (values.size === 0) {
    return identityPayloadScrubber;
  }

  const substringScrubber = new SecretScrubber();
  substringScrubber.setSecrets([...values].filter((value) => value.length >= minScrubbedSubstringLength));
  return {
    scrub: (text) => (values.has(text) ? redactedText : substringScrubber.scrub(text)),
  };
}

/**
 * Returns a copy of a JSON-like value with every string passed through `scrubber`. A number or
 * boolean equal to a redacted value becomes the string `[redacted]`.
 */
export function scrubValues<T>(value: T, scrubber: PayloadScrubber): T {
  if (scrubber === identityPayloadScrubber || value === undefined) {
    return value;
  }
  const text = JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === 'string') {
      return scrubber.scrub(item);
    }
    if ((typeof item === 'number' || typeof item === 'boolean') && scrubber.scrub(String(item)) === redactedText) {
      return redactedText;
    }
    return item;
  });
  return JSON.parse(text) as T;
}
