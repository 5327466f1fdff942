/**
 * The audit trail over real HTTP (lib/resources/auditEvents.ts): one event per acknowledged write, none for a
 * refused one, old and new values of what a write changed, newest first, paged and filtered by time.
 */
import { describe, expect, it } from 'vitest';

import { configurationsUrl, newConfiguration } from '../helpers/configurations.js';
import { expectGraphError, GUID, JSON_HEADERS, useTestApp } from '../helpers/host.js';

const app = useTestApp();
const TARGET = { '@odata.type': '#microsoft.graph.officeConfigurationAssignmentTarget' };
const GROUP = {
    '@odata.type': '#microsoft.graph.officeConfigurationGroupAssignmentTarget',
    groupId: '33333333-3333-3333-3333-333333333333',
};

interface AuditEvent {
    id: string;
    activity: string;
    activityType: string;
    activityOperationType: string;
    activityResult: string;
    activityDateTime: string;
    correlationId: string;
    category: string;
    componentName: string;
    actor: Record<string, unknown>;
    resources: {
        resourceId: string;
        type: string;
        modifiedProperties: { displayName: string; oldValue: string | null; newValue: string | null }[];
    }[];
}

const eventsUrl = () => `${app.root}/officeConfiguration/auditEvents`;

async function events(query = ''): Promise<{ value: AuditEvent[]; '@odata.nextLink'?: string }> {
    const response = await fetch(`${eventsUrl()}${query}`);
    const text = await response.text();
    expect(response.status, text).toBe(200);
    return JSON.parse(text) as { value: AuditEvent[]; '@odata.nextLink'?: string };
}

/** Every event newer than `since` (ISO), newest first, through every page. */
async function eventsSince(since: string): Promise<AuditEvent[]> {
    const all: AuditEvent[] = [];
    let next: string | undefined = `${eventsUrl()}?$top=3&$filter=activityDateTime ge ${since}`;
    while (next) {
        const response: Response = await fetch(next);
        expect(response.status).toBe(200);
        const page = (await response.json()) as { value: AuditEvent[]; '@odata.nextLink'?: string };
        all.push(...page.value);
        next = page['@odata.nextLink'];
    }
    return all;
}

async function send(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
    return await fetch(url, {
        method,
        headers: { ...JSON_HEADERS, ...headers },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
}

describe('the audit trail', () => {
    it('has one event per acknowledged write, none for a refused one, with old and new values', async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        const since = new Date().toISOString();
        const requestIds: string[] = [];
        const acknowledged = async (response: Response, status: number) => {
            expect(response.status, await response.clone().text()).toBe(status);
            requestIds.push(response.headers.get('request-id') ?? '');
            return response;
        };
        const created = await acknowledged(
            await send('POST', configurationsUrl(app.root), {
                '@odata.type': '#microsoft.graph.windowsOfficeClientConfiguration',
                displayName: 'audited',
            }),
            201,
        );
        const { id } = (await created.json()) as { id: string };
        const url = `${configurationsUrl(app.root)}/${id}`;
        await acknowledged(await send('PATCH', url, { displayName: 'audited again', description: 'd' }), 204);
        // Refused: a stale If-Match, a bad body, an assignment that does not exist. None is an event.
        expect((await send('PATCH', url, { displayName: 'no' }, { 'If-Match': '"stale"' })).status).toBe(412);
        expect((await send('PATCH', url, { displayName: 7 })).status).toBe(400);
        expect((await send('DELETE', `${url}/assignments/${crypto.randomUUID()}`)).status).toBe(404);
        const assignment = await acknowledged(await send('POST', `${url}/assignments`, { target: TARGET }), 201);
        const { id: assignmentId } = (await assignment.json()) as { id: string };
        await acknowledged(await send('PATCH', `${url}/assignments/${assignmentId}`, { target: GROUP }), 204);
        await acknowledged(
            await fetch(`${url}/policyPayload`, {
                method: 'PUT',
                headers: { 'Content-Type': 'application/json' },
                body: '{"a":1}',
            }),
            204,
        );
        await acknowledged(
            await send('POST', `${url}/assign`, { officeConfigurationAssignments: [{ target: TARGET }] }),
            200,
        );
        await acknowledged(await send('DELETE', url), 204);

        const trail = await eventsSince(since);
        const mine = trail.filter((e) => requestIds.includes(e.correlationId));
        expect(mine.map((e) => e.activityType)).toEqual([
            'Delete OfficeClientConfiguration',
            'assign OfficeClientConfiguration',
            'Put policyPayload OfficeClientConfiguration',
            'Patch OfficeClientConfigurationAssignment',
            'Create OfficeClientConfigurationAssignment',
            'Patch OfficeClientConfiguration',
            'Create OfficeClientConfiguration',
        ]);
        // Newest first, and each correlated with the request-id its write was answered with, in order.
        expect(mine.map((e) => e.correlationId)).toEqual([...requestIds].reverse());
        const times = mine.map((e) => e.activityDateTime);
        expect([...times].sort().reverse()).toEqual(times);
        for (const event of mine) {
            expect(event.id).toMatch(GUID);
            expect(event).toMatchObject({
                activityResult: 'Success',
                category: 'OfficeConfiguration',
                componentName: 'OfficeConfiguration',
                activity: event.activityType,
            });
            // Authentication is off here: the actor says so instead of naming nobody.
            expect(event.actor).toMatchObject({ type: 'Unauthenticated', auditActorType: 'Unknown' });
            expect(String(event.actor.applicationDisplayName)).toMatch(/Authentication is off/);
        }
        const patch = mine.find((e) => e.activityType === 'Patch OfficeClientConfiguration');
        expect(patch?.resources[0]?.modifiedProperties).toEqual([
            { displayName: 'displayName', oldValue: 'audited', newValue: 'audited again' },
            { displayName: 'description', oldValue: null, newValue: 'd' },
        ]);
        const assignmentPatch = mine.find((e) => e.activityType === 'Patch OfficeClientConfigurationAssignment');
        expect(assignmentPatch?.resources.map((r) => r.resourceId)).toEqual([id, assignmentId]);
        expect(assignmentPatch?.resources[1]?.modifiedProperties).toEqual([
            {
                displayName: 'target',
                oldValue: JSON.stringify(TARGET),
                newValue: JSON.stringify(GROUP),
            },
        ]);

        // Each event by its id, as listed.
        const one = await fetch(`${eventsUrl()}/${patch?.id ?? ''}`);
        expect(one.status).toBe(200);
        expect(await one.json()).toMatchObject({ ...patch, '@odata.type': '#officeConfigurationService.auditEvent' });
    });

    it('pages with $top, filters on activityDateTime, and refuses what it does not support', async () => {
        const before = new Date().toISOString();
        await newConfiguration(app.root);
        await newConfiguration(app.root);
        const after = new Date(Date.now() + 1000).toISOString();
        const page = await events(`?$top=1&$filter=activityDateTime ge ${before} and activityDateTime le ${after}`);
        expect(page.value).toHaveLength(1);
        expect(page['@odata.nextLink']).toBeDefined();
        const none = await events(`?$filter=activityDateTime lt ${before} and activityDateTime gt ${after}`);
        expect(none.value).toEqual([]);
        for (const bad of [
            '?$filter=displayName eq 1',
            '?$filter=activityDateTime ge yesterday',
            '?$filter=activityDateTime ge 2026-01-01T00:00:00Z or activityDateTime le 2026-01-02T00:00:00Z',
            '?$filter=activityDateTime ge 2026-01-01T00:00:00Z and',
            '?$orderby=activityDateTime',
            '?$top=0',
            `?$skiptoken=forged`,
        ]) {
            await expectGraphError(await fetch(`${eventsUrl()}${bad}`), 400, 'BadRequest', expect);
        }
        await expectGraphError(await fetch(`${eventsUrl()}/${crypto.randomUUID()}`), 404, 'ResourceNotFound', expect);
    });

    // The parser splits on white space once and reads four words at a time: the worst inputs are answered at once.
    it('refuses the longest and the worst $filter inputs', async () => {
        const long = `activityDateTime ge 2026-01-01T00:00:00Z and `.repeat(11).slice(0, 500);
        await expectGraphError(
            await fetch(`${eventsUrl()}?$filter=${encodeURIComponent(long)}`),
            400,
            'BadRequest',
            expect,
        );
        const worst = ' '.repeat(510) + 'x';
        await expectGraphError(
            await fetch(`${eventsUrl()}?$filter=${encodeURIComponent(worst)}`),
            400,
            'BadRequest',
            expect,
        );
    });
});
