/**
 * Route templates in the Functions syntax (`a/{name}/b`, `{*rest}`), matched against a raw, still-encoded path.
 * Both hosts use it: the local host to pick a function, every function to read its parameters, so that
 * parameters are decoded exactly once whichever host runs the app (the Functions host's own decoding of `%2F`
 * differs from node's).
 */

export const ROUTE_PREFIX = 'beta';

type Segment = { literal: string } | { param: string } | { rest: string };

export interface CompiledTemplate {
    template: string;
    segments: Segment[];
    /** Whether a `{*rest}` segment takes any number of segments; otherwise a path matches only with as many. */
    catchAll: boolean;
}

export function compileTemplate(template: string): CompiledTemplate {
    const segments = template
        .split('/')
        .filter((s) => s !== '')
        .map((s): Segment => {
            const rest = /^\{\*(\w+)\}$/.exec(s);
            if (rest) {
                return { rest: rest[1] as string };
            }
            const param = /^\{(\w+)\}$/.exec(s);
            return param ? { param: param[1] as string } : { literal: s.toLowerCase() };
        });
    return { template, segments, catchAll: segments.some((s) => 'rest' in s) };
}

/** Splits the path after `/beta/` into raw segments, or undefined for a path outside the service root. */
export function pathSegments(pathname: string): string[] | undefined {
    const parts = pathname.split('/').slice(1);
    if (parts[0]?.toLowerCase() !== ROUTE_PREFIX) {
        return undefined;
    }
    const rest = parts.slice(1);
    return rest.length > 0 && rest[rest.length - 1] === '' ? rest.slice(0, -1) : rest;
}

export class PathDecodingError extends Error {}

function decode(segment: string): string {
    try {
        return decodeURIComponent(segment);
    } catch {
        throw new PathDecodingError(`The path segment '${segment}' is not valid percent-encoding.`);
    }
}

/** Percent-decodes route parameters once; a malformed escape is the client's error. */
export function decodeParams(raw: Record<string, string>): Record<string, string> {
    const decoded: Record<string, string> = {};
    for (const name in raw) {
        const value = raw[name] as string;
        decoded[name] = value.includes('%') ? decode(value) : value;
    }
    return decoded;
}

/**
 * Matches raw segments against a template: literals decoded and case-insensitively, as the Functions host does.
 * Parameters come back still encoded (decodeParams decodes them); a `{*rest}` parameter takes the remaining segments
 * joined by `/`.
 */
export function matchTemplate(
    compiled: CompiledTemplate,
    segments: readonly string[],
): Record<string, string> | undefined {
    if (!compiled.catchAll && segments.length !== compiled.segments.length) {
        return undefined; // the common refusal, before a segment is looked at: the local host tries every route
    }
    const params: Record<string, string> = {};
    for (const [index, segment] of compiled.segments.entries()) {
        if ('rest' in segment) {
            params[segment.rest] = segments.slice(index).join('/');
            return params;
        }
        const raw = segments[index];
        if (raw === undefined || raw === '') {
            return undefined;
        }
        if ('literal' in segment) {
            // Decoded as the Functions host decodes a path before matching it: `%24metadata` is `$metadata`.
            if (decodeLiteral(raw).toLowerCase() !== segment.literal) {
                return undefined;
            }
        } else {
            params[segment.param] = raw;
        }
    }
    return segments.length === compiled.segments.length ? params : undefined;
}

function decodeLiteral(segment: string): string {
    if (!segment.includes('%')) {
        return segment; // nothing to decode: the common case, without the cost of decodeURIComponent
    }
    try {
        return decodeURIComponent(segment);
    } catch {
        return segment; // matches no literal; the catch-all names it
    }
}

/** Catch-all templates rank last, as in the ASP.NET routing the Functions host uses. */
export function isCatchAll(compiled: CompiledTemplate): boolean {
    return compiled.catchAll;
}

export interface RankedRoute<T> {
    route: T;
    compiled: CompiledTemplate;
}

/** A route table compiled once, in the order the Functions host matches it: catch-all templates last. */
export function rankRoutes<T extends { template: string }>(routes: readonly T[]): RankedRoute<T>[] {
    return routes
        .map((route) => ({ route, compiled: compileTemplate(route.template) }))
        .sort((a, b) => Number(isCatchAll(a.compiled)) - Number(isCatchAll(b.compiled)));
}

/** The first of `ranked` whose template the raw segments match, with its parameters (still encoded). */
export function firstMatch<E extends { compiled: CompiledTemplate }>(
    ranked: readonly E[],
    segments: readonly string[],
): { entry: E; params: Record<string, string> } | undefined {
    for (const entry of ranked) {
        const params = matchTemplate(entry.compiled, segments);
        if (params !== undefined) {
            return { entry, params };
        }
    }
    return undefined;
}
