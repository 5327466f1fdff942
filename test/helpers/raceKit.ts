/**
 * What the scale-out race suites share: the app as Azure runs it for them (3 instances at Session consistency, against
 * the Azure-like Cosmos DB), requests as a client sends them, and how a round is judged: from storage itself, after the
 * sweeper's run (test/helpers/scaleOut.ts has the audit).
 */
import { randomBytes } from 'node:crypto';

import { afterAll, beforeAll, expect } from 'vitest';

import { sweep } from '../../lib/jobs/sweeper.js';
import { JSON_HEADERS } from './host.js';
import { type ScaleOut, startScaleOut } from './scaleOut.js';
import { shuffled } from './shuffle.js';

export const ROUNDS = 100;
export const WINDOWS = '#microsoft.graph.windowsOfficeClientConfiguration';
export const TARGET = { '@odata.type': 'microsoft.graph.officeConfigurationAssignmentTarget' };
export const GROUP = 'microsoft.graph.officeConfigurationGroupAssignmentTarget';
export const groupOf = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/**
 * 3 instances, 5–15 ms a call (azureServerless' own figures: p50 5–7 ms, p99 12–15 ms); SDK calls time out after
 * 1.5 s (not 5), so that a write held by a late-commit rule is given up on soon, yet a busy machine is no timeout. Session, not the Bicep's Strong: the
 * weaker level, where a read on one instance may miss another's write, and every write must hold all the same; what
 * each round left is judged from storage itself. Cosmos DB's rare transient 503s (its SLA's 0.01%) are left out: each
 * is a request refused with nothing changed, which the races would have to tell from the outcomes they judge;
 * test/lib/store/simulator covers them.
 */
async function startRaceScaleOut(env: Record<string, string> = {}): Promise<ScaleOut> {
    const none = { 408: 0, 410: 0, 449: 0, 503: 0 };
    return await startScaleOut({
        instances: 3,
        profile: {
            consistency: { defaultLevel: 'Session' },
            faults: { rates: { reads: none, writes: none, batches: none, queries: none } },
        },
        // One paging key for every instance, as Azure requires (a token signed on one is followed on another).
        // A change log of a few minutes (Cosmos DB's TTL removes older records, as the embedded server now does):
        // thousands of rounds' records would otherwise pile up in a server that scans a partition for a query.
        env: {
            COSMOS_REQUEST_TIMEOUT_MS: '1500',
            SKIPTOKEN_KEY: randomBytes(32).toString('base64url'),
            CHANGE_RETENTION_DAYS: '0.0007',
            ...env,
        },
    });
}

/** The race suites' app, started before a file's tests and closed after them; read it inside a test. */
export function useRaceScaleOut(env: Record<string, string> = {}): () => ScaleOut {
    let current: ScaleOut | undefined;
    beforeAll(async () => {
        current = await startRaceScaleOut(env);
    }, 120_000);
    afterAll(async () => {
        await current?.close();
    });
    return () => {
        if (!current) {
            throw new Error('the scale-out starts in beforeAll: use it inside a test');
        }
        return current;
    };
}

export function raceKit(so: () => ScaleOut) {
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const configurations = () => `${so().root}/officeConfiguration/clientConfigurations`;
    const configuration = (id: string, root = so().root) => `${root}/officeConfiguration/clientConfigurations/${id}`;

    async function send(url: string, method: string, body?: unknown, headers: Record<string, string> = {}) {
        const response = await fetch(url, {
            method,
            headers: { ...(body === undefined ? {} : JSON_HEADERS), ...headers },
            ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
        });
        const text = await response.text();
        return {
            status: response.status,
            headers: response.headers,
            json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
        };
    }

    /**
     * A read made to check a round, retried as a client would on a 503 or 429 (Cosmos DB's own rare transient answers,
     * which the simulation keeps at its SLA's rate): the state is what is being checked, not the store's availability.
     */
    async function read(url: string) {
        for (let attempt = 0; ; attempt++) {
            const answer = await send(url, 'GET');
            if (![429, 503].includes(answer.status) || attempt === 5) {
                return answer;
            }
            await sleep(50);
        }
    }

    /**
     * A request retried as a client retries the answers that ask for it (503, 409), for set-up and follow-ups, not
     * for the request a round judges: in the late-commit races other lanes' held batches can delay anyone's writes
     * past their time. A 503 or 409 changed nothing, so the retry meets the same state.
     */
    async function retried(url: string, method: string, body?: unknown, headers: Record<string, string> = {}) {
        for (let attempt = 0; ; attempt++) {
            const answer = await send(url, method, body, headers);
            if (![409, 503].includes(answer.status) || attempt === 8) {
                return answer;
            }
            await sleep(100);
        }
    }

    async function create(body: Record<string, unknown> = {}): Promise<{ id: string; etag: string }> {
        const answer = await retried(configurations(), 'POST', { '@odata.type': WINDOWS, ...body });
        expect(answer.status, JSON.stringify(answer.json)).toBe(201);
        return { id: String(answer.json.id), etag: answer.headers.get('etag') ?? '' };
    }

    async function listed(): Promise<{ id: string; priority: number }[]> {
        const answer = await read(`${configurations()}?$top=999&$select=id,priority`);
        expect(answer.status).toBe(200);
        return answer.json.value as { id: string; priority: number }[];
    }

    /** After a round: the sweeper's run, then the container as stored must be whole, and the priorities dense. */
    async function settled(label: string, createGraceMs?: number): Promise<void> {
        const report = await sweep(so().store, {
            runForMs: 60_000,
            ...(createGraceMs !== undefined ? { createGraceMs } : {}),
        });
        expect(report.stoppedBy, label).toBeUndefined();
        const audit = await so().audit();
        expect(audit.problems, label).toEqual([]);
        expect(audit.pending, label).toEqual([]);
        const list = await listed();
        expect(
            list.map((c) => c.priority),
            label,
        ).toEqual(list.map((_, i) => i + 1));
    }

    function tally(into: Record<string, number>, label: string, status: number) {
        const key = `${label} ${status}`;
        into[key] = (into[key] ?? 0) + 1;
    }

    /** Gone: neither listed nor stored. */
    async function expectGone(id: string, label: string) {
        const stored = await so().inspect(id);
        expect({ listed: stored.listed, document: stored.document !== undefined }, label).toEqual({
            listed: false,
            document: false,
        });
    }

    /** Whole: listed, its document and its parent (unmarked) stored, with `assignments` assignments. */
    async function expectWhole(id: string, label: string, assignments?: number) {
        const stored = await so().inspect(id);
        expect(
            { listed: stored.listed, document: stored.document !== undefined, parent: stored.parent !== undefined },
            label,
        ).toEqual({
            listed: true,
            document: true,
            parent: true,
        });
        expect(stored.parent?.deleting, label).toBeUndefined();
        if (assignments !== undefined) {
            expect(stored.assignments, label).toBe(assignments);
        }
        return stored;
    }

    /** Every document as stored. */
    async function everything(): Promise<Record<string, unknown>[]> {
        const { resources } = await so()
            .stored.items.readAll<Record<string, unknown>>({ maxItemCount: 1_000_000 })
            .fetchAll();
        return resources;
    }

    return {
        sleep,
        configurations,
        configuration,
        send,
        retried,
        read,
        create,
        listed,
        settled,
        shuffled,
        tally,
        expectGone,
        expectWhole,
        everything,
    };
}
