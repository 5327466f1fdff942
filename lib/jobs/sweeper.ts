/**
 * The sweeper: the work a DELETE of a configuration leaves, and what a create that died left behind, done outside
 * requests (docs/design.md, "Deleting a configuration"). A DELETE answers once its configuration is gone from every
 * route; the documents of its partition (up to 10,000 assignments: tens of thousands of request units) and its
 * payloads are removed here, a page at a time, at low priority, by a timer (functions/triggers.ts) or the local
 * host's scheduler. Every step stands alone, so a run cut short (its time, a throttled store, a killed instance)
 * is finished by the next; a lease keeps to one run at a time across instances.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

import type { Logger } from '../platform/logger.js';
import type { AssignmentStore } from '../store/assignmentStore.js';
import { SweepStore } from '../store/sweepStore.js';
import type { SweepRecord } from '../store/tenant.js';

/**
 * A create unfinished after this long is fenced off and its parts removed: far past any request's time (the
 * Functions timeout is 30 s), so that no create still under way is ever mistaken for a dead one.
 */
export const CREATE_GRACE_MS = 5 * 60_000;

/**
 * A create fenced off (`aborted`) is swept again this long after: its parent or a payload whose write went
 * unanswered may land after the create removed them.
 */
export const ABORTED_GRACE_MS = 60_000;

/**
 * The lease outlives the run by this much (a call under way at the run's end may wait out the SDK's 429 retries, up to
 * 5 s): a killed run's lease frees itself soon after the run would have ended.
 */
const LEASE_MARGIN_MS = 10_000;

/**
 * Configurations swept side by side: each is a handful of small calls waiting on the network, so a few at once
 * shorten a run of many small ones; a big one is paced by its own pages (and by low priority) either way.
 */
const SWEEP_PARALLEL = 8;

export interface SweepOptions {
    /** How long the run may take, in milliseconds. */
    runForMs: number;
    /** Who runs it, for the lease; a fresh id by default. */
    holder?: string;
    /** Both graces at once (a test's 0: settle everything now). */
    createGraceMs?: number;
    logger?: Logger;
}

export interface SweepReport {
    /** false: another instance holds the lease, and this run did nothing. */
    leased: boolean;
    /** Configurations whose every document is gone, their records included. */
    swept: number;
    /** Documents deleted from configurations' partitions. */
    documents: number;
    /** Records left for a later run: out of time, or a create still within its grace. */
    pending: number;
    /** Creates fenced off after their grace time. */
    fenced: number;
    /** Receipts past their lifetime removed. */
    receipts: number;
    /** What stopped the run early, if anything did. */
    stoppedBy?: string;
    ms: number;
}

export function sweeperHolder(): string {
    return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

export async function sweep(store: AssignmentStore, options: SweepOptions): Promise<SweepReport> {
    const started = Date.now();
    const until = started + options.runForMs;
    const holder = options.holder ?? sweeperHolder();
    const grace = options.createGraceMs ?? CREATE_GRACE_MS;
    const abortedGrace = options.createGraceMs ?? ABORTED_GRACE_MS;
    const sweeps = new SweepStore(store.forRequest({}));
    const report: SweepReport = {
        leased: false,
        swept: 0,
        documents: 0,
        pending: 0,
        fenced: 0,
        receipts: 0,
        ms: 0,
    };
    if (!(await sweeps.takeLease(holder, started, until + LEASE_MARGIN_MS))) {
        report.ms = Date.now() - started;
        return report;
    }
    report.leased = true;
    const one = async (record: SweepRecord) => {
        if (report.stoppedBy !== undefined || Date.now() >= until) {
            report.pending += 1;
            return;
        }
        try {
            let current = record;
            if (record.state === 'aborted' && started - record.at < abortedGrace) {
                report.pending += 1; // fenced a moment ago: its unanswered writes may still land
                return;
            }
            if (record.state === 'creating') {
                if (started - record.at < grace) {
                    report.pending += 1; // a create still under way
                    return;
                }
                const fenced = await sweeps.abortCreate(record);
                if (!fenced) {
                    return; // it landed, or another sweeper fenced it
                }
                report.fenced += 1;
                current = fenced;
            }
            const swept = await sweeps.sweep(current, until);
            report.documents += swept.deleted;
            if (swept.done) {
                report.swept += 1;
            } else {
                report.pending += 1;
            }
        } catch (error) {
            // Throttled past the SDK's retries, or the store unreachable: the next run goes on from here.
            report.pending += 1;
            report.stoppedBy = error instanceof Error ? error.message : String(error);
        }
    };
    try {
        const records = await sweeps.records();
        for (let start = 0; start < records.length; start += SWEEP_PARALLEL) {
            await Promise.all(records.slice(start, start + SWEEP_PARALLEL).map(one));
        }
        if (report.stoppedBy === undefined && Date.now() < until) {
            report.receipts = await sweeps.dropReceipts(Date.now(), until).catch(() => 0);
        }
    } finally {
        await sweeps.releaseLease(holder).catch(() => undefined);
    }
    report.ms = Date.now() - started;
    if (report.swept + report.fenced + report.documents + report.receipts > 0 || report.stoppedBy) {
        options.logger?.info(`sweeper: ${describeSweep(report)}`);
    }
    return report;
}

export function describeSweep(report: SweepReport): string {
    if (!report.leased) {
        return 'another instance holds the lease';
    }
    return (
        `${report.swept} configuration(s) swept, ${report.documents} document(s) deleted, ${report.fenced} create(s) ` +
        `fenced off, ${report.receipts} receipt(s) removed, ${report.pending} left for the next run, in ${report.ms} ms` +
        (report.stoppedBy ? ` (stopped: ${report.stoppedBy})` : '')
    );
}
