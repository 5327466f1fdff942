/**
 * What a handler needs from the outside world, in one small object: the authenticator, the store, the clock and a
 * logger. The app builds it from the settings; a test hands in its own (the embedded Cosmos, a stopped one, a fixed
 * clock, a token checker trusting a local stand-in for Entra ID).
 */
import type { Container } from '@azure/cosmos';

import type { NotificationUrlPolicy } from '../notifications/notificationUrl.js';
import type { Resolve } from '../notifications/webhook.js';
import { AssignmentStore, StoreError } from '../store/assignmentStore.js';
import { openContainer, type OpenedContainer } from '../store/cosmosClient.js';
import { type Authenticator, createAuthenticator } from './auth.js';
import type { AppConfig } from './config.js';
import { consoleLogger, type Logger } from './logger.js';
import { startTelemetry, type Telemetry } from './telemetry.js';

// The types a Services object is made of, for those who build one (tests, benchmarks).
export type { Access, Authenticator, Caller } from './auth.js';
export { consoleLogger, type Logger } from './logger.js';

export interface Services {
    /** Absent when auth is off (local use only: lib/platform/config refuses that in Azure). */
    authenticator?: Authenticator;
    store: AssignmentStore;
    clock: () => Date;
    logger: Logger;
    /** Time a request may spend on storage, from when its body is in, before it is answered 503; none when absent. */
    requestBudgetMs?: number;
    /**
     * `requestBudgetMs` is what is left of an enclosing request's (a `$batch` part's): a route's own minimum
     * (`minBudgetMs`) does not extend it.
     */
    budgetIsRemainder?: boolean;
    /** Time a body may take to arrive once asked for, before it is answered 408; none when absent. */
    bodyTimeoutMs?: number;
    /** The origin clients use, when it is not the request's own (lib/platform/config PUBLIC_ORIGIN). */
    publicOrigin?: string;
    /** Signs `$skiptoken`s (lib/platform/config SKIPTOKEN_KEY); absent in tests, which then use a key of their process. */
    skipTokenKey?: Buffer;
    /** What subscriptions accept (lib/resources/subscriptions); absent: a local run's rules, no tenant. */
    notifications?: SubscriptionSettings;
}

export interface SubscriptionSettings {
    policy: NotificationUrlPolicy;
    tenantId: string | null;
    /** How names of notification URLs are resolved: the system's resolver unless a test hands in its own. */
    resolve?: Resolve;
    /** The validation handshake's time; Graph's 10 s unless a test shortens it. */
    handshakeTimeoutMs?: number;
}

export interface AppServices extends Services {
    /** Absent without an Application Insights connection string. */
    telemetry?: Telemetry;
    /** Connects now rather than on the first request; resolves to where the data lives. */
    warmUp(): Promise<string>;
    /** Sends the telemetry still held, closes the Cosmos client. */
    dispose(): Promise<void>;
}

/**
 * The container is opened on first use and the promise kept, so one CosmosClient serves the process; a failed
 * attempt is forgotten, so the next request tries again once storage is back. After `dispose()` nothing opens a
 * new client: a late request gets a 503.
 */
export function createAppServices(config: AppConfig, logger: Logger = consoleLogger): AppServices {
    let opening: Promise<OpenedContainer> | undefined;
    let disposed = false;
    const open = () => {
        if (disposed) {
            return Promise.reject(new StoreError('unavailable', 'the store is closed: the app is shutting down'));
        }
        opening ??= openContainer(config.cosmos).then(
            (opened) => {
                const warning = config.cosmos.connection.kind === 'embedded' ? ' — for local use only' : '';
                logger.info(`Configurations, payloads and assignments are stored ${opened.description}${warning}.`);
                return opened;
            },
            (error: unknown) => {
                opening = undefined;
                throw error;
            },
        );
        return opening;
    };
    const container = async (): Promise<Container> => (await open()).container;
    const telemetry = config.telemetry ? startTelemetry(config.telemetry, config.cosmos, logger) : undefined;
    return {
        ...(config.auth ? { authenticator: createAuthenticator(config.auth, { logger }) } : {}),
        ...(telemetry ? { telemetry } : {}),
        store: new AssignmentStore(container, {
            ...(telemetry ? { observer: telemetry.observer } : {}),
            changeLog: { retentionSeconds: config.changeRetentionSeconds },
        }),
        clock: () => new Date(),
        logger,
        requestBudgetMs: config.requestBudgetMs,
        bodyTimeoutMs: config.bodyTimeoutMs,
        skipTokenKey: config.skipTokenKey,
        notifications: { policy: config.notifications.policy, tenantId: config.notifications.tenantId },
        ...(config.publicOrigin ? { publicOrigin: config.publicOrigin } : {}),
        warmUp: async () => (await open()).description,
        dispose: async () => {
            disposed = true;
            const current = opening;
            opening = undefined;
            await Promise.all([telemetry?.dispose(), (await current?.catch(() => undefined))?.dispose()]);
        },
    };
}
