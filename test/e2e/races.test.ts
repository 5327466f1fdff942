/**
 * Writes racing `assign`, over real HTTP against the embedded Cosmos DB, many rounds each. Every round is judged by
 * listing the set afterwards: it must be what some order of the winning requests produces, and every answer must
 * be what that order gives. No timing is asserted; the delays only spread the requests over each other.
 */
import { describe, expect, it } from 'vitest';

import { newConfiguration } from '../helpers/configurations.js';
import { JSON_HEADERS, useTestApp } from '../helpers/host.js';

const app = useTestApp();

const GROUP_TYPE = 'microsoft.graph.officeConfigurationGroupAssignmentTarget';
const target = (groupId: string) => ({ '@odata.type': GROUP_TYPE, groupId });
const groupOf = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Entity {
    id: string;
    target: { groupId: string };
}

const configurationUrl = (cfg: string) => app.assignmentsUrl(cfg).replace(/\/assignments$/, '');

async function assign(cfg: string, groupIds: string[]): Promise<{ status: number; value: Entity[] }> {
    const response = await fetch(`${configurationUrl(cfg)}/assign`, {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify({ officeConfigurationAssignments: groupIds.map((g) => ({ target: target(g) })) }),
    });
    const body = (await response.json()) as { value?: Entity[] };
    return { status: response.status, value: body.value ?? [] };
}

async function listed(cfg: string): Promise<Map<string, string>> {
    const response = await fetch(`${app.assignmentsUrl(cfg)}?$top=999`);
    const { value } = (await response.json()) as { value: Entity[] };
    return new Map(value.map((e) => [e.id, e.target.groupId]));
}

const same = (a: Map<string, string>, b: Map<string, string>) =>
    a.size === b.size && [...a].every(([id, g]) => b.get(id) === g);

describe('the embedded store keeps a transactional batch whole', () => {
    it('assign racing a delete, 200 rounds: the whole new set or the old set minus the delete, never a part', async () => {
        const rounds = 200;
        const outcomes = { assignWon: 0, conflict: 0, partial: 0, falseConflict: 0 };
        for (let round = 0; round < rounds; round++) {
            const cfg = await newConfiguration(app.root);
            const old = await assign(
                cfg,
                Array.from({ length: 60 }, (_, i) => groupOf(i)),
            );
            expect(old.status).toBe(200);
            const victim = old.value[round % 60] as Entity;
            const fresh = groupOf(1000 + round);
            const [assigned, deleted] = await Promise.all([
                assign(cfg, [fresh]),
                (async () => {
                    await sleep(round % 12); // 0–11 ms later
                    return (await fetch(`${app.assignmentsUrl(cfg)}/${victim.id}`, { method: 'DELETE' })).status;
                })(),
            ]);
            const after = await listed(cfg);
            const oldMinusVictim = new Map(
                old.value.filter((e) => e.id !== victim.id).map((e) => [e.id, e.target.groupId]),
            );
            if (assigned.status === 200) {
                outcomes.assignWon += 1;
                const expected = new Map(assigned.value.map((e) => [e.id, e.target.groupId]));
                if (!same(after, expected) || ![204, 404].includes(deleted)) {
                    outcomes.partial += 1;
                }
            } else {
                expect(assigned.status).toBe(409);
                outcomes.conflict += 1;
                if (!same(after, oldMinusVictim) || deleted !== 204) {
                    outcomes.falseConflict += 1;
                }
            }
        }
        console.info(`assign vs delete, ${rounds} rounds: ${JSON.stringify(outcomes)}`);
        expect(outcomes.partial).toBe(0);
        expect(outcomes.falseConflict).toBe(0);
        expect(outcomes.assignWon + outcomes.conflict).toBe(rounds);
    }, 600_000);
});

type Step =
    | { kind: 'assign'; ok: boolean; value: Entity[] }
    | { kind: 'create'; ok: boolean; id: string; groupId: string }
    | { kind: 'patch'; ok: boolean; id: string; groupId: string }
    | { kind: 'delete'; ok: boolean; id: string };

/** Applies one answered request to a set; undefined when its answer is impossible in that set. */
function apply(state: Map<string, string>, step: Step): Map<string, string> | undefined {
    const next = new Map(state);
    switch (step.kind) {
        case 'assign': {
            if (!step.ok) {
                return next; // a 409 changes nothing
            }
            const present = new Set(state.values());
            const fits = step.value.every(
                (e) =>
                    state.has(e.id) === present.has(e.target.groupId) &&
                    (!state.has(e.id) || state.get(e.id) === e.target.groupId),
            );
            return fits ? new Map(step.value.map((e) => [e.id, e.target.groupId])) : undefined;
        }
        case 'create':
            if (!step.ok || state.has(step.id)) {
                return undefined;
            }
            return next.set(step.id, step.groupId);
        case 'patch':
            if (state.has(step.id) !== step.ok) {
                return undefined;
            }
            return step.ok ? next.set(step.id, step.groupId) : next;
        case 'delete':
            if (state.has(step.id) !== step.ok) {
                return undefined;
            }
            next.delete(step.id);
            return next;
    }
}

function permutations<T>(items: T[]): T[][] {
    if (items.length <= 1) {
        return [items];
    }
    return items.flatMap((item, i) =>
        permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
    );
}

/** Some order of the answered requests explains every answer and ends in the listed set. */
function explained(initial: Map<string, string>, steps: Step[], final: Map<string, string>): boolean {
    return permutations(steps).some((order) => {
        let state: Map<string, string> | undefined = initial;
        for (const step of order) {
            state = state && apply(state, step);
        }
        return state !== undefined && same(state, final);
    });
}

describe('single writes racing assign', () => {
    it('assign racing a create, a PATCH and a DELETE, 100 rounds: the final set is what the answers say', async () => {
        const rounds = 100;
        let unexplained = 0;
        const statuses: Record<string, number> = {};
        for (let round = 0; round < rounds; round++) {
            const cfg = await newConfiguration(app.root);
            const g = (n: number) => groupOf(round * 10 + n);
            const initial = await assign(cfg, [g(1), g(2), g(3)]);
            const [a, b, c] = initial.value as [Entity, Entity, Entity];
            // Spread over the assign: from its first read (0–5 ms) to its batch (up to ~25 ms later), by round.
            const delay = (n: number) => sleep(((round * 7 + n * 3) % 6) + (round % 4) * 7);
            const steps = await Promise.all([
                (async (): Promise<Step> => {
                    const r = await assign(cfg, [g(2), g(4)]);
                    return { kind: 'assign', ok: r.status === 200, value: r.value };
                })(),
                (async (): Promise<Step> => {
                    await delay(1);
                    const r = await fetch(app.assignmentsUrl(cfg), {
                        method: 'POST',
                        headers: JSON_HEADERS,
                        body: JSON.stringify({ target: target(g(5)) }),
                    });
                    const body = (await r.json()) as Entity;
                    return { kind: 'create', ok: r.status === 201, id: body.id, groupId: g(5) };
                })(),
                (async (): Promise<Step> => {
                    await delay(2);
                    const r = await fetch(`${app.assignmentsUrl(cfg)}/${b.id}`, {
                        method: 'PATCH',
                        headers: JSON_HEADERS,
                        body: JSON.stringify({ target: target(g(6)) }),
                    });
                    return { kind: 'patch', ok: r.status === 204, id: b.id, groupId: g(6) };
                })(),
                (async (): Promise<Step> => {
                    await delay(3);
                    const r = await fetch(`${app.assignmentsUrl(cfg)}/${[a, c][round % 2]?.id ?? ''}`, {
                        method: 'DELETE',
                    });
                    return { kind: 'delete', ok: r.status === 204, id: ([a, c][round % 2] as Entity).id };
                })(),
            ]);
            steps.forEach(
                (s) =>
                    (statuses[`${s.kind} ${s.ok ? 'ok' : 'refused'}`] =
                        (statuses[`${s.kind} ${s.ok ? 'ok' : 'refused'}`] ?? 0) + 1),
            );
            const start = new Map(initial.value.map((e) => [e.id, e.target.groupId]));
            if (!explained(start, steps, await listed(cfg))) {
                unexplained += 1;
            }
        }
        console.info(`assign vs single writes, ${rounds} rounds: ${JSON.stringify(statuses)}`);
        expect(unexplained).toBe(0);
    }, 600_000);
});
