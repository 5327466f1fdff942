import { describe, expect, it } from 'vitest';

import {
    assignActionSchema,
    ASSIGNMENT_TYPE,
    BASE_TARGET_TYPE,
    createAssignmentSchema,
    GROUP_TARGET_TYPE,
    MAX_ASSIGNMENTS_PER_ASSIGN,
} from '../../../lib/graph/schema.js';
import { validateBody } from '../../../lib/graph/validation.js';

const groupId = '0f8fad5b-d9cb-469f-a165-70867728950e';

describe('the create schema', () => {
    it('accepts both target types, with or without # in every @odata.type', () => {
        for (const hash of ['', '#']) {
            expect(validateBody('create', { target: { '@odata.type': `${hash}${BASE_TARGET_TYPE}` } })).toEqual({
                valid: true,
            });
            expect(
                validateBody('create', {
                    '@odata.type': `${hash}${ASSIGNMENT_TYPE}`,
                    target: { '@odata.type': `${hash}${GROUP_TARGET_TYPE}`, groupId },
                }),
            ).toEqual({ valid: true });
        }
    });

    it('ignores id and annotations, at the top and in the target', () => {
        const body = {
            id: 'anything',
            '@odata.context': 'x',
            '@odata.etag': 'W/"1"',
            'target@odata.type': 'x',
            target: { '@odata.type': BASE_TARGET_TYPE, '@microsoft.graph.tips': 'x' },
        };
        expect(validateBody('create', body)).toEqual({ valid: true });
    });

    it('reports each violation once, with its dotted path', () => {
        const result = validateBody('create', {
            extra: 1,
            target: {
                '@odata.type': GROUP_TARGET_TYPE,
                groupId: '{0f8fad5b-d9cb-469f-a165-70867728950e}',
                other: true,
            },
        });
        expect(result.valid).toBe(false);
        if (!result.valid) {
            expect(result.details).toEqual([
                {
                    code: 'UnknownProperty',
                    message: `The property 'extra' does not exist on type '${ASSIGNMENT_TYPE}'.`,
                    target: 'extra',
                },
                {
                    code: 'UnknownProperty',
                    message: `The property 'other' does not exist on type '${GROUP_TARGET_TYPE}'.`,
                    target: 'target.other',
                },
                {
                    code: 'InvalidValue',
                    message:
                        "The value '{0f8fad5b-d9cb-469f-a165-70867728950e}' of 'target.groupId' is not a valid GUID.",
                    target: 'target.groupId',
                },
            ]);
        }
    });

    it('reports a missing @odata.type once, not also as an unknown discriminator', () => {
        const result = validateBody('create', { target: { groupId } });
        expect(result.valid ? [] : result.details.map((d) => d.target)).toEqual(['target.@odata.type']);
    });

    it('names the known target types when the type is unknown', () => {
        const result = validateBody('create', {
            target: { '@odata.type': 'microsoft.graph.allDevicesAssignmentTarget' },
        });
        expect(result.valid ? '' : result.details[0]?.message).toContain(GROUP_TARGET_TYPE);
    });

    it('is plain JSON data: the schema survives a JSON round trip unchanged', () => {
        expect(JSON.parse(JSON.stringify(createAssignmentSchema))).toEqual(createAssignmentSchema);
    });
});

describe('the update and assign schemas', () => {
    it('update accepts an empty object and the same target rules', () => {
        expect(validateBody('update', {})).toEqual({ valid: true });
        expect(validateBody('update', { target: { '@odata.type': GROUP_TARGET_TYPE } }).valid).toBe(false);
    });

    it('assign limits the set and paths point into the array', () => {
        expect(assignActionSchema.properties.officeConfigurationAssignments.maxItems).toBe(MAX_ASSIGNMENTS_PER_ASSIGN);
        const result = validateBody('assign', { officeConfigurationAssignments: [{ target: {} }] });
        expect(result.valid ? [] : result.details.map((d) => d.target)).toEqual([
            'officeConfigurationAssignments[0].target.@odata.type',
        ]);
        const many = {
            officeConfigurationAssignments: Array.from({ length: 101 }, () => ({
                target: { '@odata.type': BASE_TARGET_TYPE },
            })),
        };
        expect(validateBody('assign', many).valid ? '' : 'TooManyItems').toBe('TooManyItems');
    });
});

describe('the configuration schemas', () => {
    const windows = '#microsoft.graph.windowsOfficeClientConfiguration';

    it('accepts both concrete types, the writable properties and inline base64 payloads', () => {
        expect(
            validateBody('createConfiguration', {
                '@odata.type': windows,
                displayName: 'x',
                description: null,
                priority: 1,
                policyPayload: 'AAEC/+8=',
                userPreferencePayload: 'AAEC_-8',
                'policyPayload@odata.mediaContentType': 'application/xml',
            }),
        ).toEqual({ valid: true });
        expect(
            validateBody('createConfiguration', {
                '@odata.type': 'microsoft.graph.windowsOfficeClientSecurityConfiguration',
            }),
        ).toEqual({ valid: true });
    });

    it('names the read-only properties, over-long strings, bad base64 and priorities below 1', () => {
        const refused = (kind: 'createConfiguration' | 'updateConfiguration', body: object) => {
            const result = validateBody(kind, body);
            return result.valid ? [] : result.details;
        };
        expect(refused('updateConfiguration', { checkinStatuses: [], userCheckinSummary: {} })).toEqual([
            expect.objectContaining({ code: 'ReadOnlyProperty', target: 'checkinStatuses' }),
            expect.objectContaining({ code: 'ReadOnlyProperty', target: 'userCheckinSummary' }),
        ]);
        expect(refused('createConfiguration', { '@odata.type': windows, displayName: 'x'.repeat(257) })).toEqual([
            expect.objectContaining({ message: "The value of 'displayName' is longer than 256 characters." }),
        ]);
        expect(refused('createConfiguration', { '@odata.type': windows, policyPayload: 'no base64!' })).toEqual([
            expect.objectContaining({ message: "The value of 'policyPayload' is not base64." }),
        ]);
        expect(refused('createConfiguration', { '@odata.type': windows, priority: 0 })).toEqual([
            expect.objectContaining({ message: "The value 0 of 'priority' must be at least 1.", target: 'priority' }),
        ]);
        expect(refused('updateConfiguration', { policyPayload: 'AAAA' })).toEqual([
            expect.objectContaining({ code: 'UnknownProperty', target: 'policyPayload' }),
        ]);
    });

    it('checks the updatePriorities body: both arrays, ids as strings, priorities as whole numbers of 1 or more', () => {
        expect(
            validateBody('updatePriorities', {
                officeConfigurationPolicyIds: ['a'],
                officeConfigurationPriorities: [1],
            }),
        ).toEqual({ valid: true });
        const result = validateBody('updatePriorities', {
            officeConfigurationPolicyIds: [1],
            officeConfigurationPriorities: [0.5],
        });
        expect(result.valid).toBe(false);
        expect(validateBody('updatePriorities', { officeConfigurationPolicyIds: [] }).valid).toBe(false);
    });
});
