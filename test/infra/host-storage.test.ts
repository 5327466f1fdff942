/**
 * Host storage (AzureWebJobsStorage) given exactly what the Functions host uses: the triggers the app registers
 * (functions/*.ts) and infra/host-storage.json (Microsoft's table of the services and roles the host and each trigger
 * need) decide the storage services and roles; the compiled template must connect the host to those services only
 * (one service URI setting each, never __accountName, from which the host derives every endpoint), grant those roles
 * only, and, with vnetEnabled, open a private endpoint to each. A service the host is pointed at but cannot reach, or
 * may not use, fails every write (azure-functions-host#10995: 403s on the diagnostic-events table).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import {
    bicepCli,
    CLI_TIMEOUT_MS,
    deployed,
    type FoundResource,
    idOf,
    INSTALL_TIMEOUT_MS,
    type JsonObject,
    ofType,
    repoRoot,
    resourceName,
    runBicep,
    single,
    text,
    Unresolved,
    type Value,
    valueAt,
    walk,
    type Walked,
} from './arm.js';

interface Needs {
    services: string[];
    roles: string[];
}

interface HostStorage {
    sources: { title: string; url: string; read: string }[];
    settings: { serviceUri: Record<string, string>; derivesEveryService: string };
    roleDefinitionIds: Record<string, string>;
    host: Needs;
    diagnosticEvents: Needs & { used: boolean };
    triggers: Record<string, Needs>;
}

const data = JSON.parse(readFileSync(path.join(repoRoot, 'infra', 'host-storage.json'), 'utf8')) as HostStorage;

const REQUIRED_PARAMETERS = {
    environmentName: 'test',
    location: 'westeurope',
    authAudience: 'api://office-config-assignments',
};

/** `app.<kind>(...)` registrations of @azure/functions in functions/: the kinds of trigger the app uses. */
const NOT_TRIGGERS = new Set(['setup', 'hook']);

function triggerKinds(source: string): string[] {
    return [...source.matchAll(/\bapp\.(\w+)\s*\(/g)]
        .map((m) => m[1] as string)
        .filter((kind) => !NOT_TRIGGERS.has(kind));
}

function triggersUsed(): string[] {
    const folder = path.join(repoRoot, 'functions');
    const kinds = readdirSync(folder)
        .filter((f) => f.endsWith('.ts'))
        .flatMap((f) => triggerKinds(readFileSync(path.join(folder, f), 'utf8')));
    return [...new Set(kinds)].sort();
}

/** The storage services and roles the host needs for these triggers, from infra/host-storage.json. */
function needs(triggers: string[]): Needs {
    const parts: Needs[] = [data.host, ...(data.diagnosticEvents.used ? [data.diagnosticEvents] : [])];
    for (const trigger of triggers) {
        const entry = data.triggers[trigger];
        expect(entry, `infra/host-storage.json has no entry for the ${trigger} trigger`).toBeDefined();
        parts.push(entry as Needs);
    }
    const union = (pick: (n: Needs) => string[]) => [...new Set(parts.flatMap(pick))].sort();
    return { services: union((n) => n.services), roles: union((n) => n.roles) };
}

describe('infra/host-storage.json', () => {
    it('keeps the services and roles of the host and of each trigger, with their sources', () => {
        expect(data.sources.map((s) => s.url)).toContain(
            'https://learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity',
        );
        for (const source of data.sources) expect(source.read).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        expect(data.host).toMatchObject({ services: ['blob'], roles: ['Storage Blob Data Owner'] });
        expect(data.triggers.timer).toMatchObject({ services: ['blob'], roles: ['Storage Blob Data Owner'] });
        expect(data.triggers.http).toMatchObject({ services: [], roles: [] });
        expect(data.diagnosticEvents).toMatchObject({ services: ['table'], roles: ['Storage Table Data Contributor'] });
        const entries = [data.host, data.diagnosticEvents, ...Object.values(data.triggers)];
        for (const entry of entries) {
            for (const service of entry.services) expect(Object.keys(data.settings.serviceUri)).toContain(service);
            for (const role of entry.roles) expect(data.roleDefinitionIds[role], role).toMatch(/^[0-9a-f-]{36}$/);
        }
    });

    it('reads the triggers the app registers: HTTP and timer, which need blobs and Storage Blob Data Owner only', () => {
        expect(
            triggerKinds("app.setup({}); app.http('a', {}); app.hook.appTerminate(f); app.storageQueue('q', {})"),
        ).toEqual(['http', 'storageQueue']);
        const used = triggersUsed();
        expect(used).toEqual(['http', 'timer']);
        expect(needs(used)).toEqual({ services: ['blob'], roles: ['Storage Blob Data Owner'] });
        // A queue trigger would add the queue service and its roles.
        expect(needs([...used, 'storageQueue']).services).toEqual(['blob', 'queue']);
    });
});

describe('host storage in infra/main.bicep', () => {
    let walked: Walked;
    let isolated: Walked;
    let need: Needs;

    beforeAll(() => {
        bicepCli(); // installs it first where it is missing (test/infra/arm.ts)
        const compiled = JSON.parse(
            runBicep(['build', path.join(repoRoot, 'infra', 'main.bicep'), '--stdout']),
        ) as JsonObject;
        walked = walk(compiled, REQUIRED_PARAMETERS);
        isolated = walk(compiled, { ...REQUIRED_PARAMETERS, vnetEnabled: true });
        need = needs(triggersUsed());
    }, INSTALL_TIMEOUT_MS + CLI_TIMEOUT_MS);

    const appSettings = (result: Walked): Record<string, Value> => {
        const site = single(result, 'Microsoft.Web/sites');
        const config = ofType(result, 'Microsoft.Web/sites/config')
            .filter(deployed)
            .find((c) => resourceName(c) === `${resourceName(site)}/appsettings`) as FoundResource;
        return valueAt(config, 'properties') as Record<string, Value>;
    };

    const expression = (value: Value): string => (value instanceof Unresolved ? value.expression : text(value));

    it('connects the host to the services it needs, each by its service URI, with the user-assigned identity', () => {
        for (const [label, result] of [
            ['vnetEnabled=false', walked],
            ['vnetEnabled=true', isolated],
        ] as const) {
            const settings = appSettings(result);
            const names = Object.keys(settings);
            // __accountName derives the blob, queue and table endpoints: the host would use services it may not reach.
            expect(names, label).not.toContain(data.settings.derivesEveryService);
            expect(names, label).not.toContain('AzureWebJobsStorage');
            const byUri = Object.entries(data.settings.serviceUri)
                .filter(([, setting]) => names.includes(setting))
                .map(([service]) => service)
                .sort();
            expect(byUri, label).toEqual(need.services);
            const unknown = names.filter(
                (n) => /^AzureWebJobsStorage__/.test(n) && !Object.values(data.settings.serviceUri).includes(n),
            );
            expect(unknown.sort(), label).toEqual(['AzureWebJobsStorage__clientId', 'AzureWebJobsStorage__credential']);
            for (const service of need.services) {
                const setting = data.settings.serviceUri[service] as string;
                expect(expression(settings[setting]), `${label} ${setting}`).toContain(`primaryEndpoints.${service}`);
            }
            expect(settings.AzureWebJobsStorage__credential, label).toBe('managedidentity');
            expect(expression(settings.AzureWebJobsStorage__clientId), label).toContain('userAssignedIdentities');
        }
    });

    it('grants the identity exactly the roles the host needs on the storage account', () => {
        const storage = single(walked, 'Microsoft.Storage/storageAccounts');
        const names = new Map(Object.entries(data.roleDefinitionIds).map(([name, id]) => [id, name]));
        const roles = ofType(walked, 'Microsoft.Authorization/roleAssignments')
            .filter(deployed)
            .filter((r) => text(valueAt(r, 'scope')) === idOf(storage))
            .filter((r) => expression(valueAt(r, 'properties.principalId')).includes('userAssignedIdentities'))
            .map((r) => {
                const id = text(valueAt(r, 'properties.roleDefinitionId')).split('/').pop() as string;
                return names.get(id) ?? id;
            });
        expect(roles.sort()).toEqual(need.roles);
    });

    it('with vnetEnabled: a storage private endpoint and private DNS zone for each service the host needs, no other', () => {
        const storage = single(isolated, 'Microsoft.Storage/storageAccounts');
        const groups = ofType(isolated, 'Microsoft.Network/privateEndpoints')
            .filter(deployed)
            .flatMap(
                (e) =>
                    valueAt(e, 'properties.privateLinkServiceConnections') as {
                        properties: { privateLinkServiceId: string; groupIds: string[] };
                    }[],
            )
            .filter((c) => c.properties.privateLinkServiceId === idOf(storage))
            .flatMap((c) => c.properties.groupIds);
        expect(groups.sort()).toEqual(need.services);
        const zones = ofType(isolated, 'Microsoft.Network/privateDnsZones')
            .filter(deployed)
            .map(resourceName)
            .filter((name) => /^privatelink\.(blob|queue|table|file)\./.test(name))
            .map((name) => name.split('.')[1])
            .sort();
        expect(zones).toEqual(need.services);
    });
});
