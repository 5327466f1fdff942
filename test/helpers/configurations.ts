/**
 * Client configurations for tests. Assignments belong to a configuration that exists; every test that needs one asks
 * here, so that how a configuration comes to exist is written once.
 */
import { randomUUID } from 'node:crypto';

import type { AssignmentStore } from '../../lib/store/assignmentStore.js';
import { ConfigurationStore } from '../../lib/store/configurationStore.js';

export const WINDOWS_CONFIGURATION = '#microsoft.graph.windowsOfficeClientConfiguration';

/** A configuration's URL under a service root (`http://127.0.0.1:port/beta`). */
export const configurationsUrl = (root: string) => `${root}/officeConfiguration/clientConfigurations`;

/**
 * Creates a client configuration over HTTP at `root` (the service root, `http://127.0.0.1:port/beta`) with `headers`
 * (a bearer token where auth is on), and returns its id.
 */
export async function newConfiguration(
    root: string,
    headers: Record<string, string> = {},
    body: Record<string, unknown> = {},
): Promise<string> {
    const response = await fetch(configurationsUrl(root), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: JSON.stringify({ '@odata.type': WINDOWS_CONFIGURATION, displayName: 'test configuration', ...body }),
    });
    if (response.status !== 201) {
        throw new Error(`creating a configuration answered ${response.status}: ${await response.text()}`);
    }
    return ((await response.json()) as { id: string }).id;
}

/**
 * The same for tests that use the store directly: a configuration made through the configuration store. `id` names it
 * in advance, for tests whose URLs are written before the store runs (any GUID no other test uses).
 */
export async function newStoredConfiguration(store: AssignmentStore, id: string = randomUUID()): Promise<string> {
    await new ConfigurationStore(store).create(
        id,
        { odataType: WINDOWS_CONFIGURATION.slice(1), displayName: 'test configuration' },
        (ids) => [...ids, id],
        [],
    );
    return id;
}

/**
 * A test file's configurations by name: the first use of a name creates one over HTTP at `root()`, later uses of the
 * name give the same id. `root` is read on first use, as the app starts in `beforeAll`.
 */
export function configurationsByName(
    root: () => string,
    headers: () => Record<string, string> = () => ({}),
): (name: string) => Promise<string> {
    const ids = new Map<string, Promise<string>>();
    return async (name) => {
        let id = ids.get(name);
        if (!id) {
            id = newConfiguration(root(), headers());
            ids.set(name, id);
        }
        return await id;
    };
}

/** As configurationsByName, through the store: for tests whose host wants tokens, or that have no host. */
export function storedConfigurationsByName(store: () => AssignmentStore): (name: string) => Promise<string> {
    const ids = new Map<string, Promise<string>>();
    return async (name) => {
        let id = ids.get(name);
        if (!id) {
            id = newStoredConfiguration(store());
            ids.set(name, id);
        }
        return await id;
    };
}
