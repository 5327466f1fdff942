/**
 * The contract of validators.js, which scripts/build-validators.ts generates at build time (git ignores it): one ajv
 * standalone validate function per body kind of lib/graph/schema's `bodySchemas`.
 */
import type { ErrorObject } from 'ajv';

export interface GeneratedValidator {
    (data: unknown): boolean;
    /** The errors of the last call that failed; null after one that passed. */
    errors?: ErrorObject[] | null;
}

export declare const create: GeneratedValidator;
export declare const update: GeneratedValidator;
export declare const assign: GeneratedValidator;
export declare const createConfiguration: GeneratedValidator;
export declare const updateConfiguration: GeneratedValidator;
export declare const updatePriorities: GeneratedValidator;
export declare const createSubscription: GeneratedValidator;
export declare const updateSubscription: GeneratedValidator;
