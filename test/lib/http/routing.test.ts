import { describe, expect, it } from 'vitest';

import {
    compileTemplate,
    decodeParams,
    isCatchAll,
    matchTemplate,
    PathDecodingError,
    pathSegments,
} from '../../../lib/http/routing.js';

const item = compileTemplate('officeConfiguration/clientConfigurations/{configurationId}/assignments/{assignmentId}');

describe('routing', () => {
    it('splits paths under the beta prefix only', () => {
        expect(pathSegments('/beta/a/b/')).toEqual(['a', 'b']);
        expect(pathSegments('/BETA/a')).toEqual(['a']);
        expect(pathSegments('/v1.0/a')).toBeUndefined();
    });

    it('matches literals case-insensitively and decodes parameters once', () => {
        const raw = matchTemplate(item, ['officeconfiguration', 'ClientConfigurations', 'a%252Fb', 'assignments', 'x']);
        expect(raw).toEqual({ configurationId: 'a%252Fb', assignmentId: 'x' });
        expect(decodeParams(raw ?? {})).toEqual({ configurationId: 'a%2Fb', assignmentId: 'x' });
        expect(decodeParams({ configurationId: 'a%2Fb' })).toEqual({ configurationId: 'a/b' });
        expect(() => decodeParams({ id: '%zz' })).toThrow(PathDecodingError);
    });

    it('decodes literal segments before comparing them, as the Functions host does', () => {
        const metadata = compileTemplate('$metadata');
        expect(matchTemplate(metadata, ['%24Metadata'])).toEqual({});
        expect(matchTemplate(metadata, ['%zzmetadata'])).toBeUndefined();
    });

    it('needs every segment, and no more', () => {
        expect(
            matchTemplate(item, ['officeConfiguration', 'clientConfigurations', 'c', 'assignments']),
        ).toBeUndefined();
        expect(
            matchTemplate(item, ['officeConfiguration', 'clientConfigurations', 'c', 'assignments', 'x', 'y']),
        ).toBeUndefined();
        expect(
            matchTemplate(item, ['officeConfiguration', 'clientConfigurations', '', 'assignments', 'x']),
        ).toBeUndefined();
    });

    it('lets a catch-all take the rest', () => {
        const all = compileTemplate('{*path}');
        expect(isCatchAll(all)).toBe(true);
        expect(isCatchAll(item)).toBe(false);
        expect(matchTemplate(all, ['a', 'b'])).toEqual({ path: 'a/b' });
    });
});
