import { describe, expect, it } from 'vitest';
import { compareRoutePrecedence, matchRouteTemplate, parseRouteTemplate } from '../../local/http/routeTemplate';

function match(template: string, path: string): Record<string, string> | undefined {
  const segments = path === '' ? [] : path.split('/');
  return matchRouteTemplate(parseRouteTemplate(template), segments);
}

describe('route template matching', () => {
  it('literal segments match case-insensitively', () => {
    expect(match('Orders/Recent', 'orders/RECENT')).toEqual({});
  });

  it('literal segments reject another path', () => {
    expect(match('orders/recent', 'orders/old')).toBeUndefined();
  });

  it('parameter takes the segment', () => {
    expect(match('orders/{orderId}', 'orders/a-1')).toEqual({ orderId: 'a-1' });
  });

  it('extra segments do not match', () => {
    expect(match('orders/{orderId}', 'orders/1/lines')).toBeUndefined();
  });

  it('optional parameter may be omitted', () => {
    expect(match('archive/{year}/{month?}', 'archive/2024')).toEqual({ year: '2024' });
  });

  it('optional parameter is taken when present', () => {
    expect(match('archive/{year}/{month?}', 'archive/2024/05')).toEqual({ year: '2024', month: '05' });
  });

  it('default value fills an omitted parameter', () => {
    expect(match('pages/{page=1}', 'pages')).toEqual({ page: '1' });
  });

  it('catch-all takes the rest of the path', () => {
    expect(match('files/{*path}', 'files/a/b/c.txt')).toEqual({ path: 'a/b/c.txt' });
  });

  it('catch-all matches an empty rest', () => {
    expect(match('files/{*path}', 'files')).toEqual({});
  });

  it('complex segment splits at the last separator', () => {
    expect(match('docs/{name}.{extension}', 'docs/report.final.pdf')).toEqual({ name: 'report.final', extension: 'pdf' });
  });

  it('complex segment with optional extension', () => {
    expect(match('docs/{name}.{extension?}', 'docs/readme')).toEqual({ name: 'readme' });
  });

  it('complex segment with optional extension present', () => {
    expect(match('docs/{name}.{extension?}', 'docs/readme.md')).toEqual({ name: 'readme', extension: 'md' });
  });

  it('empty template matches the root only', () => {
    expect(match('', '')).toEqual({});
  });
});

describe('route constraints', () => {
  const cases: [template: string, value: string, matches: boolean][] = [
    ['{id:int}', '42', true],
    ['{id:int}', '-7', true],
    ['{id:int}', '4.2', false],
    ['{id:int}', 'abc', false],
    ['{id:int}', '2147483648', false],
    ['{id:long}', '2147483648', true],
    ['{name:alpha}', 'Widget', true],
    ['{name:alpha}', 'widget1', false],
    ['{x:guid}', '0f8fad5b-d9cb-469f-a165-70867728950e', true],
    ['{x:guid}', '0f8fad5bd9cb469fa16570867728950e', true],
    ['{x:guid}', '{0f8fad5b-d9cb-469f-a165-70867728950e}', true],
    ['{x:guid}', 'not-a-guid', false],
    ['{flag:bool}', 'true', true],
    ['{flag:bool}', 'False', true],
    ['{flag:bool}', 'yes', false],
    ['{x:decimal}', '12.50', true],
    ['{x:double}', '1e3', true],
    ['{x:float}', '1e39', false],
    ['{x:datetime}', '2024-05-01', true],
    ['{x:datetime}', 'yesterday', false],
    ['{name:minlength(3)}', 'abc', true],
    ['{name:minlength(3)}', 'ab', false],
    ['{name:maxlength(3)}', 'abcd', false],
    ['{name:length(2)}', 'ab', true],
    ['{name:length(2,4)}', 'abcde', false],
    ['{n:min(10)}', '9', false],
    ['{n:max(10)}', '10', true],
    ['{n:range(1,5)}', '6', false],
    ['{code:regex(^[A-Z]{{3}}-\\d{{2}}$)}', 'ABC-12', true],
    ['{code:regex(^[A-Z]{{3}}-\\d{{2}}$)}', 'ABC-123', false],
    ['{code:regex(^(a|b)+$)}', 'abba', true],
    ['{name:minlength(3):maxlength(5)}', 'abcdef', false],
    ['{name:minlength(3):maxlength(5)}', 'abcd', true],
  ];

  for (const [template, value, matches] of cases) {
    it(`${template} ${matches ? 'accepts' : 'rejects'} "${value}"`, () => {
      expect(match(template, value) !== undefined).toBe(matches);
    });
  }

  it('regex constraint ignores case', () => {
    expect(match('{code:regex(^[A-Z]+$)}', 'abc')).toEqual({ code: 'abc' });
  });

  it('optional parameter keeps its constraint', () => {
    expect(match('archive/{year:int}/{month:int?}', 'archive/2024/may')).toBeUndefined();
  });
});

describe('route template errors', () => {
  it('unknown constraint names the constraint', () => {
    expect(() => parseRouteTemplate('items/{id:number}')).toThrow('Route constraint "number" is not supported');
  });

  it('invalid regex names the pattern', () => {
    expect(() => parseRouteTemplate('items/{id:regex(^[a-$)}')).toThrow('regex(^[a-$) has an invalid pattern');
  });

  it('unclosed brace quotes the template', () => {
    expect(() => parseRouteTemplate('items/{id')).toThrow('Invalid route template "items/{id"');
  });

  it('optional parameter before a required segment is rejected', () => {
    expect(() => parseRouteTemplate('{year?}/items')).toThrow('every segment after it must be optional');
  });

  it('catch-all must be last', () => {
    expect(() => parseRouteTemplate('{*path}/items')).toThrow('must be in the last segment');
  });

  it('repeated parameter name is rejected', () => {
    expect(() => parseRouteTemplate('{id}/{id}')).toThrow('appears more than once');
  });

  it('question mark outside a parameter is rejected', () => {
    expect(() => parseRouteTemplate('items?page=1')).toThrow('has a "?" outside a parameter');
  });
});

describe('route precedence', () => {
  it('orders literal, constrained, plain, catch-all', () => {
    const templates = ['items/{*rest}', 'items/{name}', 'items/special', 'items/{id:int}'].map(parseRouteTemplate);
    const ordered = templates.sort(compareRoutePrecedence).map((template) => template.text);
    expect(ordered).toEqual(['items/special', 'items/{id:int}', 'items/{name}', 'items/{*rest}']);
  });
});
