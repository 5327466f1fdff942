/**
 * Creates over 3 instances against Azure-like Cosmos DB (see scale-out-races.test.ts): 32 at once, 100 rounds; and a
 * create's, then a DELETE's, batch held until the instance gave up on it, then committed 0–200 ms later, 100 rounds
 * each: the answer says what happened, and storage agrees.
 */
import { describe, expect, it } from 'vitest';

import { raceKit, ROUNDS, TARGET, useRaceScaleOut, WINDOWS } from '../helpers/raceKit.js';

const so = useRaceScaleOut();

const { configurations, configuration, send, retried, create, settled, tally, expectGone, expectWhole, everything } =
    raceKit(so);

/**
 * A batch held, then applied 0–200 ms after its client lost it: in one round of ten the client gives up itself (its
 * SDK's timeout), in the others the connection is reset after 150 ms (the same question to the app, sooner).
 */
function lateCommit(round: number) {
    const afterMs = [0, 5, 50, 200][round % 4] ?? 0;
    return round % 10 === 0
        ? ({ type: 'lateCommit', afterMs } as const)
        : ({ type: 'lateCommit', afterMs, holdMs: 150 } as const);
}

describe('creates, and writes that commit after the instance gave up, over 3 instances', () => {
    it(`32 concurrent creates, half with a priority, ${ROUNDS} rounds: each 201 listed once, dense priorities`, async () => {
        const statuses: Record<string, number> = {};
        for (let round = 0; round < ROUNDS; round++) {
            const before = (await so().audit()).listed.length;
            const answers = await Promise.all(
                Array.from({ length: 32 }, (_, i) =>
                    send(configurations(), 'POST', {
                        '@odata.type': WINDOWS,
                        displayName: `c-${round}-${i}`,
                        ...(i % 2 === 0 ? { priority: (i % (before + 1)) + 1 } : {}),
                    }),
                ),
            );
            answers.forEach((a) => tally(statuses, 'create', a.status));
            const created = answers.filter((a) => a.status === 201).map((a) => String(a.json.id));
            const after = (await so().audit()).listed;
            const label = `round ${round}`;
            expect(after.length, label).toBe(before + created.length);
            for (const id of created) {
                expect(
                    after.filter((other) => other === id),
                    label,
                ).toHaveLength(1);
            }
            // The next round starts from where this one did: the configurations go again, all at once.
            const deletes = await Promise.all(created.map((id) => send(configuration(id), 'DELETE')));
            deletes.forEach((a) => tally(statuses, 'DELETE', a.status));
            for (const [index, answer] of deletes.entries()) {
                if (answer.status !== 204) {
                    expect((await send(configuration(created[index] ?? ''), 'DELETE')).status, label).toBe(204);
                }
            }
            await settled(label);
        }
        console.info(`32 concurrent creates, ${ROUNDS} rounds: ${JSON.stringify(statuses)}`);
        expect(statuses['create 201']).toBeGreaterThan(ROUNDS * 32 * 0.99);
    }, 600_000);

    it(`a create whose batch commits after the instance gave up, ${ROUNDS} rounds: whole or invisible, and said so`, async () => {
        const outcomes: Record<string, number> = {};
        const lanes = 5;
        await Promise.all(
            Array.from({ length: lanes }, async (_, lane) => {
                for (let round = lane; round < ROUNDS; round += lanes) {
                    const name = `late-create-${round}`;
                    const rule = so().sim.intercept({
                        kind: 'batch',
                        where: (request) =>
                            (request.operations ?? []).some(
                                (op) =>
                                    op.operationType === 'Create' &&
                                    (op.resourceBody as { displayName?: unknown } | undefined)?.displayName === name,
                            ),
                        action: lateCommit(round),
                    });
                    const answer = await send(configurations(), 'POST', { '@odata.type': WINDOWS, displayName: name });
                    rule.remove();
                    tally(outcomes, `create (rule hit ${rule.hits})`, answer.status);
                    const label = `round ${round}: create answered ${answer.status}`;
                    const named = (await everything()).filter(
                        (d) => d.kind === 'configuration' && d.displayName === name,
                    );
                    if (answer.status === 201) {
                        const id = String(answer.json.id);
                        expect(
                            named.map((d) => d.id),
                            label,
                        ).toEqual([id]);
                        await expectWhole(id, label, 0);
                        expect(
                            (await retried(`${configuration(id)}/assignments`, 'POST', { target: TARGET })).status,
                            label,
                        ).toBe(201);
                        expect((await retried(configuration(id), 'DELETE')).status, label).toBe(204);
                    } else {
                        expect(answer.status, label).toBe(503);
                        expect(named, label).toEqual([]);
                    }
                }
            }),
        );
        // Past its grace, whatever a create of unknown outcome left is fenced off and removed.
        await settled('late creates', 0);
        console.info(`late commit of a create, ${ROUNDS} rounds: ${JSON.stringify(outcomes)}`);
        expect(outcomes['create (rule hit 1) 201'] ?? 0).toBeGreaterThan(ROUNDS / 2);
    }, 600_000);

    it(`a DELETE whose batch commits after the instance gave up, ${ROUNDS} rounds: gone, or whole and unmarked`, async () => {
        const outcomes: Record<string, number> = {};
        const lanes = 5;
        await Promise.all(
            Array.from({ length: lanes }, async (_, lane) => {
                for (let round = lane; round < ROUNDS; round += lanes) {
                    const { id } = await create();
                    expect((await retried(`${configuration(id)}/assignments`, 'POST', { target: TARGET })).status).toBe(
                        201,
                    );
                    const rule = so().sim.intercept({
                        kind: 'batch',
                        where: (request) =>
                            (request.operations ?? []).some((op) => op.operationType === 'Delete' && op.id === id),
                        action: lateCommit(round),
                    });
                    const answer = await send(configuration(id), 'DELETE');
                    rule.remove();
                    tally(outcomes, `DELETE (rule hit ${rule.hits})`, answer.status);
                    const label = `round ${round}: DELETE answered ${answer.status}`;
                    if (answer.status === 204) {
                        await expectGone(id, label);
                        expect(
                            (await retried(`${configuration(id)}/assignments`, 'POST', { target: TARGET })).status,
                            label,
                        ).toBe(404);
                    } else {
                        // Refused, it changed nothing: listed, stored, unmarked; its assignments can still be written.
                        expect(answer.status, label).toBe(503);
                        await expectWhole(id, label, 1);
                        expect(
                            (await retried(`${configuration(id)}/assignments`, 'POST', { target: TARGET })).status,
                            label,
                        ).toBe(201);
                        expect((await retried(configuration(id), 'DELETE')).status, label).toBe(204);
                    }
                }
            }),
        );
        await settled('late deletes');
        console.info(`late commit of a DELETE, ${ROUNDS} rounds: ${JSON.stringify(outcomes)}`);
        expect(outcomes['DELETE (rule hit 1) 204'] ?? 0).toBeGreaterThan(ROUNDS / 2);
    }, 600_000);
});
