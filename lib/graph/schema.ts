/**
 * JSON Schemas (draft 2020-12) of the request bodies: the single source of the body rules, read by the validator,
 * the tests and the OpenAPI description. Type names are the CSDL's; each object schema's `title` is its OData type,
 * which the validator quotes in its messages.
 */

export const NAMESPACE = 'microsoft.graph';
export const ASSIGNMENT_TYPE = `${NAMESPACE}.officeClientConfigurationAssignment`;
export const BASE_TARGET_TYPE = `${NAMESPACE}.officeConfigurationAssignmentTarget`;
export const GROUP_TARGET_TYPE = `${NAMESPACE}.officeConfigurationGroupAssignmentTarget`;

/** Graph accepts `@odata.type` values with or without the leading `#`. */
const typeName = (name: string) => ({ enum: [`#${name}`, name] });

/**
 * Instance and property annotations (`@odata.context`, `target@odata.type`, `@microsoft.graph.tips`) are accepted and
 * ignored, as an OData service does; any other unknown property is an error.
 *
 * The pattern reads a name one way only: no part between dots may hold a dot, so a name that fails (`x@....@`) fails
 * in one pass. A looser `[^@]+\\.[^@]+` tries every split at every dot, quadratic in the name's length: one 59 KB
 * name once held the event loop for 3.5 s. Patterns run on request bodies: each must stay linear (tested).
 */
export const ANNOTATION_PATTERN = '^[^@]*@(?:[^@.]+\\.)+[^@.]+$';
const annotations = { [ANNOTATION_PATTERN]: {} };

/** Longer than any OData identifier or annotation: a longer name is refused before any pattern looks at it. */
export const MAX_PROPERTY_NAME_LENGTH = 256;
// A pattern rather than `maxLength`, whose code-point count the generated validators would need ajv at run time for.
const propertyNames = { pattern: `^[\\s\\S]{0,${MAX_PROPERTY_NAME_LENGTH}}$` };

export const GUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

export const MAX_ASSIGNMENTS_PER_ASSIGN = 100;

const target = {
    title: BASE_TARGET_TYPE,
    description: 'Who the configuration applies to; `@odata.type` names the concrete target type.',
    type: 'object',
    required: ['@odata.type'],
    properties: { '@odata.type': { type: 'string' } },
    discriminator: { propertyName: '@odata.type' },
    oneOf: [
        {
            title: BASE_TARGET_TYPE,
            properties: { '@odata.type': typeName(BASE_TARGET_TYPE) },
            propertyNames,
            patternProperties: annotations,
            additionalProperties: false,
        },
        {
            title: GROUP_TARGET_TYPE,
            required: ['groupId'],
            properties: {
                '@odata.type': typeName(GROUP_TARGET_TYPE),
                groupId: {
                    description: 'Object id of the Microsoft Entra ID group.',
                    type: 'string',
                    format: 'uuid',
                },
            },
            propertyNames,
            patternProperties: annotations,
            additionalProperties: false,
        },
    ],
} as const;

const assignmentProperties = {
    '@odata.type': typeName(ASSIGNMENT_TYPE),
    id: { type: 'string', description: 'Assigned by the service; a value sent on create is ignored.' },
    target: { $ref: '#/$defs/officeConfigurationAssignmentTarget' },
} as const;

const defs = { officeConfigurationAssignmentTarget: target } as const;

/** An assignment in a create body, or in the assign action's set. */
const newAssignment = {
    title: ASSIGNMENT_TYPE,
    type: 'object',
    required: ['target'],
    properties: assignmentProperties,
    propertyNames,
    patternProperties: annotations,
    additionalProperties: false,
} as const;

/** POST .../assignments */
export const createAssignmentSchema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'officeClientConfigurationAssignment.create',
    ...newAssignment,
    $defs: defs,
} as const;

/** PATCH .../assignments/{id}: the same properties, none required. */
export const updateAssignmentSchema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'officeClientConfigurationAssignment.update',
    title: ASSIGNMENT_TYPE,
    type: 'object',
    properties: assignmentProperties,
    propertyNames,
    patternProperties: annotations,
    additionalProperties: false,
    $defs: defs,
} as const;

/** POST .../assign: the action's one parameter, the whole new set. */
export const assignActionSchema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'officeClientConfiguration.assign',
    title: `${NAMESPACE}.assign`,
    type: 'object',
    required: ['officeConfigurationAssignments'],
    properties: {
        officeConfigurationAssignments: {
            type: 'array',
            maxItems: MAX_ASSIGNMENTS_PER_ASSIGN,
            items: newAssignment,
        },
    },
    propertyNames,
    patternProperties: annotations,
    additionalProperties: false,
    $defs: defs,
} as const;

/** Each request body the API validates, by kind: what the validators are generated from (scripts/build-validators). */
export const bodySchemas = {
    create: createAssignmentSchema,
    update: updateAssignmentSchema,
    assign: assignActionSchema,
} as const;

export type BodyKind = keyof typeof bodySchemas;

/** What a stored target looks like once validated. */
export type AssignmentTarget = { '@odata.type': string; groupId?: string } & Record<string, unknown>;

/** Strips the optional `#`, so that the two spellings of a type compare equal. */
export function bareTypeName(odataType: string): string {
    return odataType.startsWith('#') ? odataType.slice(1) : odataType;
}
