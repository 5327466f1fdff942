/**
 * The app's services around the Cosmos client: a client whose container cannot be opened is closed at once, and
 * nothing opens a new client after `dispose()`.
 */
import { CosmosClient } from '@azure/cosmos';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { type AppConfig, loadConfig } from '../../../lib/platform/config.js';
import { createAppServices, type Logger } from '../../../lib/platform/services.js';
import { StoreError } from '../../../lib/store/assignmentStore.js';
import { startEmbeddedCosmos } from '../../../lib/store/embeddedCosmos.js';
import { testSettings } from '../../helpers/cosmos.js';

const logs: string[] = [];
const logger: Logger = {
    info: (m) => logs.push(`info: ${m}`),
    warn: (m) => logs.push(`warn: ${m}`),
    error: (m) => logs.push(`error: ${m}`),
};

const config = (cosmos: AppConfig['cosmos']): AppConfig => ({ ...loadConfig({}), cosmos });

afterEach(() => {
    vi.restoreAllMocks();
    logs.length = 0;
});

describe('createAppServices', () => {
    it('disposes the Cosmos client when opening the container fails', async () => {
        const unreachable = await startEmbeddedCosmos({ protocol: 'http' });
        await unreachable.close(); // nothing listens on its port any more
        const disposed = vi.spyOn(CosmosClient.prototype, 'dispose');
        const services = createAppServices(
            config({
                ...testSettings,
                requestTimeoutMs: 500,
                connection: { kind: 'key', endpoint: unreachable.endpoint, key: unreachable.key },
            }),
            logger,
        );
        await expect(services.warmUp()).rejects.toThrow();
        expect(disposed).toHaveBeenCalledTimes(1);
        await services.dispose();
    });

    it('answers a request after dispose() as unavailable, without opening a new client', async () => {
        const services = createAppServices(config(testSettings), logger);
        await services.warmUp();
        expect((await services.store.count('cfg-dispose')) >= 0).toBe(true);
        await services.dispose();
        const error = await services.store.get('cfg-dispose', 'a').then(
            () => undefined,
            (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(StoreError);
        expect((error as StoreError).kind).toBe('unavailable');
        // One line that says where all the data lives (configurations and payloads too, not assignments alone): the
        // store was opened once, and never again after dispose().
        expect(
            logs.filter((line) => line.includes('Configurations, payloads and assignments are stored')),
        ).toHaveLength(1);
    });
});
