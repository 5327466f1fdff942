/**
 * The request charge Azure would answer for an operation. The embedded server charges 1 RU for anything; Azure
 * charges by the item's size, the index terms a write adds or removes, the operation, and the consistency of a read.
 * Modelled on Learn's published figures (the profile's charge model), so that the RU a test or a load run measures
 * on the simulator is the RU it would spend in Azure, to the precision Learn gives.
 */
import type { ChargeModel, Curve, IndexingPolicy } from './profile.js';

/** What a charge needs of a document: its stored size and its indexed terms (`path=value`). */
export interface DocumentSummary {
    size: number;
    terms: ReadonlySet<string>;
}

const KB = 1024;

/** Properties Cosmos DB adds to every item; the policies here never index them. */
const SYSTEM_PROPERTIES = new Set(['_rid', '_self', '_etag', '_attachments', '_ts']);

/** The value of a piecewise-linear curve at `x`, extended past its ends along its first and last segments. */
export function interpolate(curve: Curve, x: number): number {
    const first = curve[0];
    if (!first) {
        return 0;
    }
    let i = 1;
    while (i < curve.length - 1 && (curve[i]?.[0] ?? Infinity) < x) {
        i += 1;
    }
    const left = curve[i - 1] ?? first;
    const right = curve[i];
    if (!right || right[0] === left[0]) {
        return left[1];
    }
    return left[1] + ((right[1] - left[1]) * (x - left[0])) / (right[0] - left[0]);
}

/** Charges as Cosmos DB reports them, to two decimals. */
export function roundCharge(ru: number): number {
    return Math.round(ru * 100) / 100;
}

interface CompiledPath {
    segments: readonly string[];
    /** `/a/?`: that scalar only; `/a/*`: everything under it. */
    exact: boolean;
    included: boolean;
}

function compilePath(path: string, included: boolean): CompiledPath {
    const segments = path.split('/').filter((s) => s !== '');
    const last = segments.at(-1);
    return {
        segments: last === '?' || last === '*' ? segments.slice(0, -1) : segments,
        exact: last === '?',
        included,
    };
}

const compiledPolicies = new WeakMap<IndexingPolicy, readonly CompiledPath[]>();

function compile(policy: IndexingPolicy): readonly CompiledPath[] {
    let compiled = compiledPolicies.get(policy);
    if (!compiled) {
        compiled = [
            ...policy.includedPaths.map((p) => compilePath(p, true)),
            ...policy.excludedPaths.map((p) => compilePath(p, false)),
        ];
        compiledPolicies.set(policy, compiled);
    }
    return compiled;
}

/**
 * Whether a scalar at this path is indexed: the most precise matching path of the policy decides, as Cosmos DB's
 * indexing policies do when included and excluded paths overlap.
 */
function isIndexed(paths: readonly CompiledPath[], segments: readonly string[]): boolean {
    let best: CompiledPath | undefined;
    let bestRank = -1;
    for (const path of paths) {
        const length = path.segments.length;
        if (path.exact ? length !== segments.length : length > segments.length) {
            continue;
        }
        if (!path.segments.every((s, i) => s === segments[i])) {
            continue;
        }
        const rank = length * 2 + (path.exact ? 1 : 0);
        if (rank > bestRank) {
            best = path;
            bestRank = rank;
        }
    }
    return best?.included ?? false;
}

function collectTerms(
    value: unknown,
    segments: string[],
    paths: readonly CompiledPath[],
    terms: Set<string>,
    top: boolean,
): void {
    if (Array.isArray(value)) {
        segments.push('[]');
        value.forEach((element) => collectTerms(element, segments, paths, terms, false));
        segments.pop();
    } else if (value !== null && typeof value === 'object') {
        for (const [key, child] of Object.entries(value)) {
            if (top && SYSTEM_PROPERTIES.has(key)) {
                continue;
            }
            segments.push(key);
            collectTerms(child, segments, paths, terms, false);
            segments.pop();
        }
    } else if (value !== undefined && isIndexed(paths, segments)) {
        terms.add(`/${segments.join('/')}=${JSON.stringify(value)}`);
    }
}

/** A document's stored size (its JSON in UTF-8, unless known) and the terms the policy indexes of it. */
export function summarize(document: unknown, policy: IndexingPolicy, size?: number): DocumentSummary {
    const terms = new Set<string>();
    collectTerms(document, [], compile(policy), terms, true);
    return { size: size ?? Buffer.byteLength(JSON.stringify(document) ?? ''), terms };
}

function termsDiff(before: ReadonlySet<string>, after: ReadonlySet<string>): number {
    let changed = 0;
    before.forEach((t) => (changed += after.has(t) ? 0 : 1));
    after.forEach((t) => (changed += before.has(t) ? 0 : 1));
    return changed;
}

/** A point read of an item of this size (at Session and weaker: `multiplier` 1; Strong and bounded staleness: 2). */
export function pointReadCharge(model: ChargeModel, size: number, multiplier = 1): number {
    const first = model.pointReadByItemSizeKb[0]?.[1] ?? 1;
    return roundCharge(Math.max(first, interpolate(model.pointReadByItemSizeKb, size / KB)) * multiplier);
}

function sizeCharge(model: ChargeModel, size: number): number {
    const first = model.writeByItemSizeKb[0]?.[1] ?? 0;
    return Math.max(first, interpolate(model.writeByItemSizeKb, size / KB));
}

/** Inserting the document and each of its indexed terms. */
export function createCharge(model: ChargeModel, created: DocumentSummary): number {
    return roundCharge(sizeCharge(model, created.size) + model.perIndexedTerm * created.terms.size);
}

/**
 * Deleting the old document and inserting the new, and removing and adding each indexed term that changed. A
 * document whose old state is unknown is taken as its new size with every indexed term changed.
 */
export function replaceCharge(model: ChargeModel, before: DocumentSummary | undefined, after: DocumentSummary): number {
    const old = before ?? { size: after.size, terms: new Set<string>() };
    const changed = termsDiff(old.terms, after.terms);
    return roundCharge(sizeCharge(model, old.size) + sizeCharge(model, after.size) + model.perIndexedTerm * changed);
}

/** A replace of the patched document, plus the patch's own charge per operation. */
export function patchCharge(
    model: ChargeModel,
    before: DocumentSummary | undefined,
    after: DocumentSummary,
    operations: number,
): number {
    return roundCharge(replaceCharge(model, before, after) + model.patchPerOperation * operations);
}

/**
 * Deleting the document and each of its indexed terms. A document the simulator never saw is charged as a 1 KB
 * one with the terms of its id and partition key.
 */
export function deleteCharge(model: ChargeModel, deleted: DocumentSummary | undefined): number {
    const size = deleted?.size ?? KB;
    const terms = deleted?.terms.size ?? 2;
    return roundCharge(sizeCharge(model, size) + model.perIndexedTerm * terms);
}

/** The query's base charge and, for each item it returns, a point read of that item's size. */
export function queryCharge(model: ChargeModel, itemSizes: readonly number[], multiplier = 1): number {
    let loaded = 0;
    for (const size of itemSizes) {
        loaded += pointReadCharge(model, size);
    }
    return roundCharge((model.queryBase + loaded) * multiplier);
}
