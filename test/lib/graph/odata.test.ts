import { describe, expect, it } from 'vitest';

import {
    actionResultContext,
    assignmentResource,
    assignmentUrl,
    collectionContext,
    entityContext,
    serviceRoot,
} from '../../../lib/graph/odata.js';

const root = 'https://api.example.com/beta';
const assignment = { id: 'a1', target: { '@odata.type': 'microsoft.graph.officeConfigurationAssignmentTarget' } };

describe('OData shaping', () => {
    it('derives the service root from the request URL', () => {
        expect(serviceRoot('https://api.example.com:8443/beta/x/y?z=1')).toBe('https://api.example.com:8443/beta');
    });

    it('writes context URLs with the key as an OData string literal', () => {
        expect(entityContext(root, 'cfg-1')).toBe(
            `${root}/$metadata#officeConfiguration/clientConfigurations('cfg-1')/assignments/$entity`,
        );
        expect(collectionContext(root, "o'neil cfg")).toBe(
            `${root}/$metadata#officeConfiguration/clientConfigurations('o''neil%20cfg')/assignments`,
        );
        expect(collectionContext(root, 'c', ['id', 'target'])).toMatch(/assignments\(id,target\)$/);
        expect(actionResultContext(root)).toBe(
            `${root}/$metadata#Collection(microsoft.graph.officeClientConfigurationAssignment)`,
        );
    });

    it('percent-encodes the configuration id in locations', () => {
        expect(assignmentUrl(root, 'a b/c', 'x')).toBe(
            `${root}/officeConfiguration/clientConfigurations/a%20b%2Fc/assignments/x`,
        );
    });

    it('writes the type first and only the selected properties', () => {
        expect(Object.keys(assignmentResource(assignment))).toEqual(['@odata.type', 'id', 'target']);
        expect(assignmentResource(assignment, ['target'])).toEqual({
            '@odata.type': '#microsoft.graph.officeClientConfigurationAssignment',
            target: { '@odata.type': '#microsoft.graph.officeConfigurationAssignmentTarget' },
        });
    });

    it('spells every @odata.type with its #, whichever spelling was stored', () => {
        for (const type of [
            'microsoft.graph.officeConfigurationGroupAssignmentTarget',
            '#microsoft.graph.officeConfigurationGroupAssignmentTarget',
        ]) {
            const target = { '@odata.type': type, groupId: '0f8fad5b-d9cb-469f-a165-70867728950e' };
            expect(assignmentResource({ id: 'a', target }).target).toEqual({
                '@odata.type': '#microsoft.graph.officeConfigurationGroupAssignmentTarget',
                groupId: '0f8fad5b-d9cb-469f-a165-70867728950e',
            });
        }
    });

    it('never lets a storage field through', () => {
        const stored = { ...assignment, configurationId: 'c', _rid: 'r', _self: 's', _ts: 1, _etag: 'e', etag: 'e' };
        expect(Object.keys(assignmentResource(stored))).toEqual(['@odata.type', 'id', 'target']);
    });
});
