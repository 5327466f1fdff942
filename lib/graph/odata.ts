/**
 * OData shaping: context URLs, entity and collection bodies, and the headers Graph puts on every response.
 */
import { ASSIGNMENT_TYPE, type AssignmentTarget, bareTypeName } from './schema.js';

export const ODATA_JSON =
    'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

/** The service root as clients address it, e.g. `https://host/beta`, from a URL or an origin. */
export function serviceRoot(urlOrOrigin: string): string {
    return `${new URL(urlOrOrigin).origin}/beta`;
}

/** OData key literal: a string in single quotes, quotes doubled; unsafe characters percent-encoded for a URL. */
function keyLiteral(key: string): string {
    return `'${encodeURIComponent(key.replace(/'/g, "''"))}'`;
}

export function assignmentsPath(configurationId: string): string {
    return `officeConfiguration/clientConfigurations/${encodeURIComponent(configurationId)}/assignments`;
}

/** Absolute URL of one assignment: the `Location` of a create. */
export function assignmentUrl(root: string, configurationId: string, id: string): string {
    return `${root}/${assignmentsPath(configurationId)}/${encodeURIComponent(id)}`;
}

function assignmentsContext(root: string, configurationId: string): string {
    return `${root}/$metadata#officeConfiguration/clientConfigurations(${keyLiteral(configurationId)})/assignments`;
}

export function entityContext(root: string, configurationId: string, select?: readonly string[]): string {
    return `${assignmentsContext(root, configurationId)}${selectSuffix(select)}/$entity`;
}

export function collectionContext(root: string, configurationId: string, select?: readonly string[]): string {
    return `${assignmentsContext(root, configurationId)}${selectSuffix(select)}`;
}

/** The `assign` action returns a collection that belongs to no entity set. */
export function actionResultContext(root: string): string {
    return `${root}/$metadata#Collection(${ASSIGNMENT_TYPE})`;
}

function selectSuffix(select?: readonly string[]): string {
    return select && select.length > 0 ? `(${select.join(',')})` : '';
}

export interface Assignment {
    id: string;
    target: AssignmentTarget;
}

/** An assignment as Graph writes it: its type, then the selected properties; never a storage field. */
export function assignmentResource(assignment: Assignment, select?: readonly string[]): Record<string, unknown> {
    const all = !select || select.length === 0;
    return {
        '@odata.type': `#${ASSIGNMENT_TYPE}`,
        ...(all || select.includes('id') ? { id: assignment.id } : {}),
        ...(all || select.includes('target') ? { target: targetResource(assignment.target) } : {}),
    };
}

/** Graph writes `@odata.type` with its `#`, whichever spelling the client sent (both are accepted on input). */
function targetResource(target: AssignmentTarget): AssignmentTarget {
    return { ...target, '@odata.type': `#${bareTypeName(target['@odata.type'])}` };
}
