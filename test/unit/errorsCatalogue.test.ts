import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { problemTypes } from '../../lib/http/problem';

const catalogue = fs.readFileSync(path.join(__dirname, '../../docs/errors.md'), 'utf8');
const connectorPrefix = 'urn:api-data-connector:problem:';

describe('docs/errors.md', () => {
  test.each(Object.entries(problemTypes))('lists problem type %s', (_key, type) => {
    expect(type.startsWith(connectorPrefix)).toBe(true);
    expect(catalogue).toContain(`| \`${type.slice(connectorPrefix.length)}\` |`);
  });

  test('names the connector type prefix', () => {
    expect(catalogue).toContain(`\`${connectorPrefix}<name>\``);
  });
});
