import type { RegisteredFunction } from '../functionsCore/registry';
import { parseAuthLevel, type AuthLevel } from './authorization';
import { compareRoutePrecedence, matchRouteTemplate, parseRouteTemplate, type RouteTemplate } from './routeTemplate';

/** The routes of the app's HTTP-triggered functions, in the order they are tried. */

export interface HttpRoute {
  fn: RegisteredFunction;
  template: RouteTemplate;
  /** Upper-case methods, or undefined when the trigger accepts every method. */
  methods: string[] | undefined;
  authLevel: AuthLevel;
}

export type RouteMatch =
  | { kind: 'matched'; route: HttpRoute; params: Record<string, string> }
  | { kind: 'methodNotAllowed'; allowedMethods: string[] }
  | { kind: 'notFound' };

function readMethods(fn: RegisteredFunction): string[] | undefined {
  const methods = fn.trigger.methods;
  if (methods === undefined || methods === null || (Array.isArray(methods) && methods.length === 0)) {
    return undefined;
  }
  if (!Array.isArray(methods) || !methods.every((method) => typeof method === 'string')) {
    throw new Error(`Function "${fn.name}" has methods ${JSON.stringify(methods)}, but methods must be a list of HTTP method names.`);
  }
  return methods.map((method) => method.toUpperCase());
}

function createRoute(fn: RegisteredFunction): HttpRoute {
  const route = fn.trigger.route;
  if (route !== undefined && typeof route !== 'string') {
    throw new Error(`Function "${fn.name}" has route ${JSON.stringify(route)}, but a route must be a string.`);
  }
  let template: RouteTemplate;
  try {
    // Without a route, Azure Functions serves the function under its name.
    template = parseRouteTemplate(route ?? fn.name);
  } catch (error) {
    throw new Error(`Function "${fn.name}": ${(error as Error).message}`, { cause: error });
  }
  return { fn, template, methods: readMethods(fn), authLevel: parseAuthLevel(fn.trigger.authLevel, fn.name) };
}

function methodsOverlap(first: string[] | undefined, second: string[] | undefined): boolean {
  return !first || !second || first.some((method) => second.includes(method));
}

export class RouteTable {
  readonly routes: HttpRoute[];
  readonly #prefixSegments: string[];

  /**
   * Builds the table from HTTP-triggered functions, and throws when a route or auth level is invalid.
   * `routePrefix` has no leading or trailing slash and may be empty.
   */
  constructor(functions: RegisteredFunction[], routePrefix: string) {
    this.routes = functions.map(createRoute).sort((first, second) => compareRoutePrecedence(first.template, second.template));
    this.#prefixSegments = routePrefix === '' ? [] : routePrefix.split('/').map((segment) => segment.toLowerCase());
  }

  /** Lists pairs of functions with the same template and a common method. The first one of each pair is served. */
  findConflicts(): { served: string; hidden: string; template: string }[] {
    const conflicts: { served: string; hidden: string; template: string }[] = [];
    this.routes.forEach((route, index) => {
      for (const later of this.routes.slice(index + 1)) {
        if (later.template.text.toLowerCase() === route.template.text.toLowerCase() && methodsOverlap(route.methods, later.methods)) {
          conflicts.push({ served: route.fn.name, hidden: later.fn.name, template: route.template.text });
        }
      }
    });
    return conflicts;
  }

  /** Returns the decoded path segments after the route prefix, or undefined when the path is outside the prefix. */
  stripPrefix(pathSegments: string[]): string[] | undefined {
    const matchesPrefix = this.#prefixSegments.every((segment, index) => pathSegments[index]?.toLowerCase() === segment);
    return matchesPrefix ? pathSegments.slice(this.#prefixSegments.length) : undefined;
  }

  /** Finds the route for a request, given its method and its decoded path segments (prefix included). */
  match(method: string, pathSegments: string[]): RouteMatch {
    const routeSegments = this.stripPrefix(pathSegments);
    if (!routeSegments) {
      return { kind: 'notFound' };
    }
    const allowedMethods = new Set<string>();
    for (const route of this.routes) {
      const params = matchRouteTemplate(route.template, routeSegments);
      if (!params) {
        continue;
      }
      if (!route.methods || route.methods.includes(method.toUpperCase())) {
        return { kind: 'matched', route, params };
      }
      route.methods.forEach((allowed) => allowedMethods.add(allowed));
    }
    return allowedMethods.size > 0 ? { kind: 'methodNotAllowed', allowedMethods: [...allowedMethods] } : { kind: 'notFound' };
  }
}
