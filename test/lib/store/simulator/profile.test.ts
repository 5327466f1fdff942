/**
 * The profile data and the charge model: every number of cosmos-service-profile.json names a listed source, the
 * presets carry the documented values, overrides derive new profiles, and the charge model reproduces Learn's own
 * worked examples.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import {
    azureAutoscaleFloor,
    azureServerless,
    deriveProfile,
    DOCUMENT_SIZE_TABLE,
    local,
    readServiceProfileFile,
    seededRandom,
} from '../../../../lib/store/simulator/profile.js';
import {
    createCharge,
    deleteCharge,
    interpolate,
    patchCharge,
    pointReadCharge,
    queryCharge,
    replaceCharge,
    summarize,
} from '../../../../lib/store/simulator/requestCharge.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

interface Source {
    title?: unknown;
    url?: unknown;
}

/** Every `{value, source}` leaf of the file, with its path. */
function values(node: unknown, path = ''): { path: string; value: Record<string, unknown> }[] {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) {
        return [];
    }
    if ('value' in node && 'source' in node) {
        return [{ path, value: node }];
    }
    return Object.entries(node).flatMap(([key, child]) => (key === 'sources' ? [] : values(child, `${path}/${key}`)));
}

describe('cosmos-service-profile.json', () => {
    const file = readServiceProfileFile() as { $comment?: unknown; sources: Source[] };

    it('lists its sources: Learn pages, or files of this repository', () => {
        expect(typeof file.$comment).toBe('string');
        expect(file.sources.length).toBeGreaterThan(10);
        for (const source of file.sources) {
            expect(typeof source.title, JSON.stringify(source)).toBe('string');
            const url = String(source.url);
            if (url.startsWith('https://')) {
                expect(url).toMatch(/^https:\/\/learn\.microsoft\.com\//);
            } else {
                expect(existsSync(`${repoRoot}${url}`), url).toBe(true);
            }
        }
    });

    it('names a listed source, and what it says, for every value', () => {
        const urls = new Set(file.sources.map((s) => s.url));
        const leaves = values(file);
        expect(leaves.length).toBeGreaterThan(30);
        const named = (value: Record<string, unknown>) => [value.source, ...((value.seeAlso as unknown[]) ?? [])];
        for (const { path, value } of leaves) {
            for (const url of named(value)) {
                expect(urls.has(url), `${path}: ${String(url)}`).toBe(true);
            }
            expect(typeof value.says, path).toBe('string');
            if ('approximation' in value) {
                expect(typeof value.approximation, path).toBe('string');
            }
        }
        // Every source is used.
        const used = new Set(leaves.flatMap((l) => named(l.value)));
        expect(file.sources.filter((s) => !used.has(s.url))).toEqual([]);
    });
});

describe('presets', () => {
    it('stand for the Bicep’s accounts, and local for none of Azure’s limits', () => {
        expect(azureServerless.consistency.defaultLevel).toBe('Strong');
        expect(azureServerless.throughput.budgetRuPerSecond).toBe(5000);
        expect(azureServerless.latencyMs.pointRead).toEqual({ p50: 5, p99: 12 });
        expect(azureServerless.replication).toEqual({ lagMs: 10, staleReplicaProbability: 0.25 });
        expect(azureServerless.faults.rates.writes[503]).toBe(0.0001);
        expect(azureServerless.charges.indexingPolicy.includedPaths).toEqual([
            '/configurationId/?',
            '/id/?',
            '/activityDateTime/?',
            '/eventId/?',
        ]);
        expect(azureAutoscaleFloor.throughput.budgetRuPerSecond).toBe(1000);
        expect(local.throughput.budgetRuPerSecond).toBeNull();
        expect(local.latencyMs.query).toEqual({ p50: 0, p99: 0 });
        expect(local.replication.lagMs).toBe(0);
        expect(Object.values(local.faults.rates).flatMap((r) => Object.values(r))).toEqual(new Array(16).fill(0));
        expect(local.charges).toEqual(azureServerless.charges);
    });

    it('derive new profiles without touching the base', () => {
        const derived = deriveProfile(azureServerless, {
            throughput: { budgetRuPerSecond: 400 },
            charges: { pointReadByItemSizeKb: DOCUMENT_SIZE_TABLE.map(([kb, read]) => [kb, read] as const) },
        });
        expect(derived.throughput.budgetRuPerSecond).toBe(400);
        expect(derived.throughput.physicalPartitions).toBe(1);
        expect(derived.charges.pointReadByItemSizeKb).toHaveLength(12);
        expect(azureServerless.throughput.budgetRuPerSecond).toBe(5000);
        expect(azureServerless.charges.pointReadByItemSizeKb).toHaveLength(2);
    });

    it('seed a random source that replays', () => {
        const a = seededRandom(3);
        const b = seededRandom(3);
        const draws = Array.from({ length: 1000 }, a);
        expect(Array.from({ length: 1000 }, b)).toEqual(draws);
        expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
        expect(Math.max(...draws)).toBeLessThan(1);
    });
});

describe('the charge model', () => {
    const model = azureServerless.charges;
    const kb = (n: number) => n * 1024;
    const terms = (n: number) => new Set(Array.from({ length: n }, (_, i) => `/p${i}/?=${i}`));

    it('charges point reads as Learn’s table: 1 KB 1 RU, 100 KB 10 RU, twice at Strong', () => {
        expect(pointReadCharge(model, kb(1))).toBe(1);
        expect(pointReadCharge(model, 200)).toBe(1);
        expect(pointReadCharge(model, kb(100))).toBe(10);
        expect(pointReadCharge(model, kb(100), 2)).toBe(20);
        expect(pointReadCharge(model, kb(50))).toBeGreaterThan(pointReadCharge(model, kb(10)));
    });

    it('reproduces the worked examples of “Understand request units consumption” (5.0 RU per 1 KB written)', () => {
        // Learn's examples round the 1-KB size-based charge (4.95 in its table) to 5.0.
        expect(createCharge(model, { size: kb(1), terms: terms(10) })).toBeCloseTo(7 - 0.05, 2);
        const before = { size: kb(1), terms: terms(10) };
        const after = { size: kb(1), terms: new Set([...terms(8), '/p8/?=x', '/p9/?=y']) };
        expect(replaceCharge(model, before, after)).toBeCloseTo(10.8 - 0.1, 2);
        expect(patchCharge(model, before, after, 2)).toBeCloseTo(11.6 - 0.1, 2);
        expect(deleteCharge(model, before)).toBeCloseTo(7 - 0.05, 2);
    });

    it('charges a query returning 1000 1-KB items about 1000 RU, and the sample query 3.19 RU', () => {
        expect(queryCharge(model, new Array<number>(1000).fill(kb(1)))).toBeCloseTo(1001.4, 1);
        expect(queryCharge(model, [9963])).toBeCloseTo(3.19, 1);
    });

    it('counts only the terms the policy indexes, the most precise path deciding', () => {
        const document = { id: 'a', configurationId: 'c', x: { y: 1, z: [1, 2] }, _ts: 1, _etag: '"e"' };
        expect(summarize(document, model.indexingPolicy).terms).toEqual(new Set(['/id="a"', '/configurationId="c"']));
        const all = summarize(document, { includedPaths: ['/*'], excludedPaths: ['/x/z/*'] });
        expect(all.terms).toEqual(new Set(['/id="a"', '/configurationId="c"', '/x/y=1']));
        expect(summarize(document, { includedPaths: ['/*'], excludedPaths: [] }).terms.size).toBe(5);
    });

    it('interpolates between the table’s rows and beyond its ends', () => {
        const curve = [
            [1, 1],
            [100, 10],
        ] as const;
        expect(interpolate(curve, 50.5)).toBeCloseTo(5.5, 5);
        expect(interpolate(curve, 199)).toBeCloseTo(19, 5);
    });
});
