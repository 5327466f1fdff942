/**
 * Infrastructure tests: compile infra/main.bicep with the Bicep CLI, lint it, and check the compiled ARM template
 * against the app's own constants (database, container, partition key, app settings, telemetry names), Flex
 * Consumption's documented deprecations, and the security and operations baseline, with vnetEnabled off and on.
 *
 * The CLI comes from BICEP_CLI, else .tools/bicep, else `bicep` on PATH; without one, the first beforeAll runs
 * scripts/install-bicep.sh (test/infra/arm.ts). Where no CLI can be had, every test here fails and says why: none is
 * ever skipped.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import {
    AZURE_APP_SETTINGS,
    DEFAULT_COSMOS_CONTAINER,
    DEFAULT_COSMOS_DATABASE,
    loadConfig,
} from '../../lib/platform/config.js';
import { PARTITION_KEY_PATH } from '../../lib/store/assignmentStore.js';
import {
    asObject,
    bicepCli,
    CLI_TIMEOUT_MS,
    dependsOn,
    deployed,
    type FoundResource,
    idOf,
    INSTALL_TIMEOUT_MS,
    type JsonObject,
    lastNameSegment,
    ofType,
    repoRoot,
    resourceName,
    runBicep,
    single,
    text,
    Unresolved,
    type Value,
    valueAt,
    variable,
    walk,
    type Walked,
} from './arm.js';

const mainBicep = path.join(repoRoot, 'infra', 'main.bicep');
const parametersFile = path.join(repoRoot, 'infra', 'main.parameters.json');

// Values for the root parameters that have no default (azd supplies them from main.parameters.json).
const REQUIRED_PARAMETERS = {
    environmentName: 'test',
    location: 'westeurope',
    authAudience: 'api://office-config-assignments',
};

const COSMOS_DATA_CONTRIBUTOR = '00000000-0000-0000-0000-000000000002';
const STORAGE_BLOB_DATA_OWNER = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b';
const MONITORING_METRICS_PUBLISHER = '3913510d-42f4-4e42-8a64-420c390055eb';

// ---------------------------------------------------------------------------------------------------------------
// Flex Consumption's deprecated app settings and site properties, kept as data with their sources.
// ---------------------------------------------------------------------------------------------------------------

interface FlexDeprecations {
    sources: { title: string; url: string }[];
    appSettings: Record<string, string>;
    siteProperties: Record<string, string>;
}

const flexDeprecations = JSON.parse(
    readFileSync(path.join(repoRoot, 'infra', 'flex-consumption-deprecations.json'), 'utf8'),
) as FlexDeprecations;

function keysOf(value: Value): string[] {
    return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Unresolved)
        ? Object.keys(value)
        : [];
}

/** The app settings of a site, by name: from sites/config 'appsettings' and from siteConfig.appSettings. */
function appSettingsOf(walked: Walked, site: FoundResource): Record<string, Value> {
    const siteName = resourceName(site);
    const fromConfig = ofType(walked, 'Microsoft.Web/sites/config')
        .filter(deployed)
        .filter((c) => resourceName(c) === `${siteName}/appsettings`)
        .map((c) => valueAt(c, 'properties') as Record<string, Value>);
    const fromSiteConfig = (
        (valueAt(site, 'properties.siteConfig.appSettings') ?? []) as { name: string; value: Value }[]
    ).map((s) => ({ [s.name]: s.value }));
    return Object.assign({}, ...fromSiteConfig, ...fromConfig) as Record<string, Value>;
}

/**
 * Every deprecated setting or property the template sets on a Flex Consumption site, as 'site: where.name'. Site
 * properties count at properties.*, properties.siteConfig.* and in a sites/config 'web' resource (which is siteConfig).
 */
function flexViolations(walked: Walked): string[] {
    const settings = new Set(Object.keys(flexDeprecations.appSettings).map((n) => n.toLowerCase()));
    const properties = new Set(Object.keys(flexDeprecations.siteProperties).map((n) => n.toLowerCase()));
    const found: string[] = [];
    for (const site of ofType(walked, 'Microsoft.Web/sites').filter(deployed)) {
        const name = resourceName(site);
        const siteProperties = [
            ...keysOf(valueAt(site, 'properties')).map((key) => `properties.${key}`),
            ...keysOf(valueAt(site, 'properties.siteConfig')).map((key) => `siteConfig.${key}`),
            ...ofType(walked, 'Microsoft.Web/sites/config')
                .filter(deployed)
                .filter((c) => resourceName(c) === `${name}/web`)
                .flatMap((c) => keysOf(valueAt(c, 'properties')).map((key) => `config/web.${key}`)),
        ];
        for (const where of siteProperties) {
            if (properties.has((where.split('.').pop() as string).toLowerCase())) found.push(`${name}: ${where}`);
        }
        for (const setting of Object.keys(appSettingsOf(walked, site))) {
            if (settings.has(setting.toLowerCase())) found.push(`${name}: appsettings.${setting}`);
        }
    }
    return found;
}

describe('infra/flex-consumption-deprecations.json', () => {
    it('keeps the documented list with its sources', () => {
        expect(flexDeprecations.sources.map((s) => s.url)).toContain(
            'https://learn.microsoft.com/azure/azure-functions/functions-app-settings#flex-consumption-plan-deprecations',
        );
        // The ones the issue names, and a sample of the rest: a shortened list would pass everything.
        expect(Object.keys(flexDeprecations.appSettings)).toEqual(
            expect.arrayContaining([
                'FUNCTIONS_WORKER_RUNTIME',
                'FUNCTIONS_EXTENSION_VERSION',
                'WEBSITE_RUN_FROM_PACKAGE',
                'WEBSITE_NODE_DEFAULT_VERSION',
                'WEBSITE_CONTENTSHARE',
                'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
                'SCM_DO_BUILD_DURING_DEPLOYMENT',
                'ENABLE_ORYX_BUILD',
            ]),
        );
        expect(Object.keys(flexDeprecations.siteProperties)).toEqual(
            expect.arrayContaining([
                'ftpsState',
                'alwaysOn',
                'linuxFxVersion',
                'netFrameworkVersion',
                'use32BitWorkerProcess',
            ]),
        );
        expect(Object.keys(flexDeprecations.appSettings).length).toBeGreaterThanOrEqual(17);
        expect(Object.keys(flexDeprecations.siteProperties).length).toBeGreaterThanOrEqual(18);
    });

    it('the check finds a listed property or setting wherever a template sets it', () => {
        const site = (properties: JsonObject): JsonObject => ({
            type: 'Microsoft.Web/sites',
            name: 'app',
            properties,
        });
        const template = (resources: JsonObject[]): JsonObject => ({ parameters: {}, variables: {}, resources });
        expect(flexViolations(walk(template([site({ siteConfig: { minTlsVersion: '1.2' } })])))).toEqual([]);
        expect(flexViolations(walk(template([site({ siteConfig: { alwaysOn: true } })])))).toEqual([
            'app: siteConfig.alwaysOn',
        ]);
        expect(flexViolations(walk(template([site({ vnetRouteAllEnabled: true })])))).toEqual([
            'app: properties.vnetRouteAllEnabled',
        ]);
        expect(
            flexViolations(
                walk(
                    template([
                        site({}),
                        {
                            type: 'Microsoft.Web/sites/config',
                            name: 'app/web',
                            properties: { LinuxFxVersion: 'NODE|22' },
                        },
                        {
                            type: 'Microsoft.Web/sites/config',
                            name: 'app/appsettings',
                            properties: { functions_worker_runtime: 'node' },
                        },
                    ]),
                ),
            ),
        ).toEqual(['app: config/web.LinuxFxVersion', 'app: appsettings.functions_worker_runtime']);
    });
});

describe('infra/main.bicep', () => {
    let compiled: JsonObject;
    /** vnetEnabled off (the default) and on. */
    let walked: Walked;
    let isolated: Walked;

    beforeAll(() => {
        bicepCli(); // installs it first where it is missing
        compiled = JSON.parse(runBicep(['build', mainBicep, '--stdout'])) as JsonObject;
        walked = walk(compiled, REQUIRED_PARAMETERS);
        isolated = walk(compiled, { ...REQUIRED_PARAMETERS, vnetEnabled: true });
    }, INSTALL_TIMEOUT_MS + CLI_TIMEOUT_MS);

    const bothWays = (): [string, Walked][] => [
        ['vnetEnabled=false', walked],
        ['vnetEnabled=true', isolated],
    ];

    it('builds at subscription scope and creates the resource group rg-<environmentName>', () => {
        expect(text(compiled.$schema ?? null)).toContain('subscriptionDeploymentTemplate.json');
        const rg = single(walked, 'Microsoft.Resources/resourceGroups');
        expect(valueAt(rg, 'name')).toBe('rg-test');
        const modules = ofType(walked, 'Microsoft.Resources/deployments');
        expect(modules.length).toBeGreaterThan(0);
        for (const module of modules) expect(module.raw.properties).toHaveProperty('template');
    });

    // Lint reads the source, not parameter values: one run covers vnetEnabled off and on.
    it(
        'lints with zero warnings and zero errors',
        () => {
            const sarif = JSON.parse(runBicep(['lint', mainBicep, '--diagnostics-format', 'sarif'])) as {
                runs: { results: { ruleId?: string; level?: string; message: { text: string } }[] }[];
            };
            const results = sarif.runs.flatMap((run) => run.results);
            expect(results.map((r) => `${r.level ?? 'warning'} ${r.ruleId ?? ''}: ${r.message.text}`)).toEqual([]);
        },
        CLI_TIMEOUT_MS,
    );

    it('keeps every API version recent (use-recent-api-versions is on in bicepconfig.json) and every module local', () => {
        const config = JSON.parse(readFileSync(path.join(repoRoot, 'infra', 'bicepconfig.json'), 'utf8')) as {
            analyzers: { core: { enabled: boolean; rules: Record<string, { level: string }> } };
        };
        expect(config.analyzers.core.enabled).toBe(true);
        expect(config.analyzers.core.rules['use-recent-api-versions']?.level).toMatch(/^(warning|error)$/);
        for (const [rule, setting] of Object.entries(config.analyzers.core.rules)) {
            expect(setting.level, rule).toMatch(/^(warning|error)$/);
        }
        expect(config).not.toHaveProperty('experimentalFeaturesEnabled');
        // User-defined functions (the AUTH_AUDIENCE check) compile to ARM language version 2.0, which is GA.
        expect(text(compiled.languageVersion ?? '')).not.toMatch(/experimental/);
        const modules = ofType(walked, 'Microsoft.Resources/deployments');
        for (const module of modules) expect(asObject(module.raw.properties).templateLink).toBeUndefined();
        expect(readFileSync(mainBicep, 'utf8')).not.toContain('br/public:');
    });

    describe('Cosmos DB', () => {
        it('partitions the container by PARTITION_KEY_PATH from lib/store/assignmentStore.ts (Hash, version 2)', () => {
            const container = single(walked, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers');
            expect(valueAt(container, 'properties.resource.partitionKey')).toEqual({
                paths: [PARTITION_KEY_PATH],
                kind: 'Hash',
                version: 2,
            });
        });

        it('lets the idempotency-key records expire by their own ttl (defaultTtl -1)', () => {
            const container = single(walked, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers');
            expect(valueAt(container, 'properties.resource.defaultTtl')).toBe(-1);
        });

        it('names the database and container after DEFAULT_COSMOS_DATABASE / DEFAULT_COSMOS_CONTAINER', () => {
            const database = single(walked, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases');
            const container = single(walked, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers');
            expect(lastNameSegment(database)).toBe(DEFAULT_COSMOS_DATABASE);
            expect(valueAt(database, 'properties.resource.id')).toBe(DEFAULT_COSMOS_DATABASE);
            expect(lastNameSegment(container)).toBe(DEFAULT_COSMOS_CONTAINER);
            expect(valueAt(container, 'properties.resource.id')).toBe(DEFAULT_COSMOS_CONTAINER);
            const params = asObject(compiled.parameters);
            expect(asObject(params.cosmosDatabaseName).defaultValue).toBe(DEFAULT_COSMOS_DATABASE);
            expect(asObject(params.cosmosContainerName).defaultValue).toBe(DEFAULT_COSMOS_CONTAINER);
        });

        it('indexes the paths the store queries filter on, and those only; no unique key', () => {
            // Every query string of lib/store/assignmentStore (a literal that starts with SELECT, or a filter that starts with `c.`):
            // the paths it names must be indexed, and nothing else is.
            const folder = path.join(repoRoot, 'lib', 'store');
            const queried = new Set<string>();
            for (const file of readdirSync(folder).filter((f) => f.endsWith('.ts'))) {
                const source = readFileSync(path.join(folder, file), 'utf8');
                for (const [, text] of source.matchAll(/['`]((?:SELECT |c\.)[^'`]*)['`]/g)) {
                    for (const [, name] of (text ?? '').matchAll(/\bc\.([A-Za-z_]\w*)/g)) {
                        queried.add(`/${name ?? ''}/?`);
                    }
                }
            }
            // The change log's audit reads (lib/store/changeReader) add the two paths only its records have.
            expect([...queried].sort()).toEqual(
                [`${PARTITION_KEY_PATH}/?`, '/id/?', '/activityDateTime/?', '/eventId/?'].sort(),
            );
            const container = single(walked, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers');
            const policy = valueAt(container, 'properties.resource.indexingPolicy') as {
                includedPaths: { path: string }[];
            };
            expect(policy.includedPaths.map((p) => p.path).sort()).toEqual([...queried].sort());
            expect(valueAt(container, 'properties.resource.uniqueKeyPolicy')).toBeUndefined();
        });

        it("indexes only the partition key, id and the change records' audit paths", () => {
            const container = single(walked, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers');
            const policy = valueAt(container, 'properties.resource.indexingPolicy') as {
                includedPaths: { path: string }[];
                excludedPaths: { path: string }[];
            };
            expect(policy.excludedPaths.map((p) => p.path)).toContain('/*');
            expect(policy.includedPaths.map((p) => p.path).sort()).toEqual(
                [`${PARTITION_KEY_PATH}/?`, '/id/?', '/activityDateTime/?', '/eventId/?'].sort(),
            );
        });

        it('reads at Strong consistency and lets the sweeper run at low priority', () => {
            // Strong: a read on any instance sees every write acknowledged on any other (docs/design.md, "Consistency").
            const account = single(walked, 'Microsoft.DocumentDB/databaseAccounts');
            expect(valueAt(account, 'properties.consistencyPolicy.defaultConsistencyLevel')).toBe('Strong');
            expect(valueAt(account, 'properties.locations')).toHaveLength(1); // Strong is one region's, at no write cost
            expect(valueAt(account, 'properties.enablePriorityBasedExecution')).toBe(true);
            expect(valueAt(account, 'properties.defaultPriorityLevel')).toBe('High');
        });

        it('turns off local (key) auth, requires TLS 1.2 and is serverless by default', () => {
            const account = single(walked, 'Microsoft.DocumentDB/databaseAccounts');
            expect(valueAt(account, 'properties.disableLocalAuth')).toBe(true);
            expect(valueAt(account, 'properties.minimalTlsVersion')).toBe('Tls12');
            expect(valueAt(account, 'properties.capabilities')).toEqual([{ name: 'EnableServerless' }]);
            const container = single(walked, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers');
            expect(valueAt(container, 'properties.options')).toEqual({});
        });

        it('switches to autoscale throughput on the container when cosmosThroughputMode is autoscale', () => {
            const autoscale = walk(compiled, {
                ...REQUIRED_PARAMETERS,
                cosmosThroughputMode: 'autoscale',
                cosmosAutoscaleMaxThroughput: 4000,
            });
            const account = single(autoscale, 'Microsoft.DocumentDB/databaseAccounts');
            expect(valueAt(account, 'properties.capabilities')).toEqual([]);
            const container = single(autoscale, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers');
            expect(valueAt(container, 'properties.options')).toEqual({ autoscaleSettings: { maxThroughput: 4000 } });
        });

        it('grants Built-in Data Contributor by its fully qualified sqlRoleDefinitions id, after the container', () => {
            const account = single(walked, 'Microsoft.DocumentDB/databaseAccounts');
            const container = single(walked, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers');
            const assignments = ofType(walked, 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments');
            expect(assignments.length).toBeGreaterThanOrEqual(1);
            for (const assignment of assignments) {
                expect(valueAt(assignment, 'properties.roleDefinitionId')).toBe(
                    `/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/Microsoft.DocumentDB/` +
                        `databaseAccounts/${resourceName(account)}/sqlRoleDefinitions/${COSMOS_DATA_CONTRIBUTOR}`,
                );
                expect(valueAt(assignment, 'properties.scope')).toBe(idOf(account));
                // Microsoft's rbac.bicep orders them after the database and container; so does this template.
                expect(dependsOn(assignment)).toContain(idOf(container));
            }
            // Data-plane access is never granted through ARM role assignments.
            const armRoles = ofType(walked, 'Microsoft.Authorization/roleAssignments');
            expect(JSON.stringify(armRoles.map((r) => r.raw))).not.toContain(COSMOS_DATA_CONTRIBUTOR);
        });
    });

    describe("the deployer's data roles (deployerDataAccess)", () => {
        const deployerRoles = (overrides: Record<string, Value>): string[] => {
            const result = walk(compiled, { ...REQUIRED_PARAMETERS, ...overrides });
            const cosmos = ofType(result, 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments')
                .filter(deployed)
                .filter((a) => valueAt(a, 'properties.principalId') === 'deployer-object-id')
                .map(() => 'Cosmos DB Built-in Data Contributor');
            const storage = ofType(result, 'Microsoft.Authorization/roleAssignments')
                .filter(deployed)
                .filter((a) => valueAt(a, 'properties.principalId') === 'deployer-object-id')
                .map((a) =>
                    text(valueAt(a, 'properties.roleDefinitionId')).endsWith(STORAGE_BLOB_DATA_OWNER)
                        ? 'Storage Blob Data Owner'
                        : text(valueAt(a, 'properties.roleDefinitionId')),
                );
            return [...cosmos, ...storage];
        };
        const BOTH = ['Cosmos DB Built-in Data Contributor', 'Storage Blob Data Owner'];

        it('a user running azd up gets data access by default', () => {
            expect(deployerRoles({ principalId: 'deployer-object-id' })).toEqual(BOTH);
            expect(deployerRoles({ principalId: 'deployer-object-id', principalType: 'User' })).toEqual(BOTH);
        });

        it('a service principal (CI) or a group gets none unless deployerDataAccess is set', () => {
            expect(deployerRoles({ principalId: 'deployer-object-id', principalType: 'ServicePrincipal' })).toEqual([]);
            expect(deployerRoles({ principalId: 'deployer-object-id', principalType: 'Group' })).toEqual([]);
            expect(
                deployerRoles({
                    principalId: 'deployer-object-id',
                    principalType: 'ServicePrincipal',
                    deployerDataAccess: true,
                }),
            ).toEqual(BOTH);
            expect(deployerRoles({ principalId: 'deployer-object-id', deployerDataAccess: false })).toEqual([]);
        });

        it('no principal id, no deployer role', () => {
            expect(deployerRoles({})).toEqual([]);
            const assignments = ofType(walked, 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments');
            expect(assignments.filter(deployed)).toHaveLength(1);
            const parameter = asObject(asObject(compiled.parameters).deployerDataAccess);
            expect(text(asObject(parameter.metadata).description ?? null)).toMatch(/ServicePrincipal/);
        });
    });

    describe('function app', () => {
        it('runs on the Flex Consumption plan (FC1, Linux)', () => {
            const plan = single(walked, 'Microsoft.Web/serverfarms');
            expect(valueAt(plan, 'sku')).toEqual({ name: 'FC1', tier: 'FlexConsumption' });
            expect(valueAt(plan, 'properties.reserved')).toBe(true);
        });

        it('runs Node.js 22 with identity-based deployment storage', () => {
            const site = single(walked, 'Microsoft.Web/sites');
            expect(text(valueAt(site, 'kind'))).toMatch(/functionapp/);
            expect(text(valueAt(site, 'kind'))).toMatch(/linux/);
            expect(valueAt(site, 'properties.functionAppConfig.runtime')).toEqual({ name: 'node', version: '22' });
            const storage = valueAt(site, 'properties.functionAppConfig.deployment.storage') as {
                type: string;
                authentication: { type: string };
            };
            expect(storage.type).toBe('blobContainer');
            expect(storage.authentication.type).toBe('UserAssignedIdentity');
            const scale = valueAt(site, 'properties.functionAppConfig.scaleAndConcurrency') as Record<string, Value>;
            expect(typeof scale.maximumInstanceCount).toBe('number');
            expect(typeof scale.instanceMemoryMB).toBe('number');
        });

        it('is HTTPS only, TLS 1.2, FTP off by policy (not ftpsState), tagged azd-service-name: api', () => {
            const site = single(walked, 'Microsoft.Web/sites');
            expect(valueAt(site, 'properties.httpsOnly')).toBe(true);
            expect(valueAt(site, 'properties.siteConfig')).toEqual({ minTlsVersion: '1.2' });
            expect(valueAt(site, 'tags')).toMatchObject({ 'azd-service-name': 'api' });
            const policies = ofType(walked, 'Microsoft.Web/sites/basicPublishingCredentialsPolicies').filter(deployed);
            expect(policies.map((p) => [lastNameSegment(p), valueAt(p, 'properties.allow')]).sort()).toEqual([
                ['ftp', false],
                ['scm', false],
            ]);
        });

        it('sets no app setting or site property Flex Consumption deprecates, either way', () => {
            for (const [label, result] of bothWays()) {
                expect(ofType(result, 'Microsoft.Web/sites').filter(deployed), label).toHaveLength(1);
                expect(flexViolations(result), label).toEqual([]);
            }
        });

        it('sets every app setting in AZURE_APP_SETTINGS from lib/platform/config.ts, identity-based, without keys', () => {
            const site = single(walked, 'Microsoft.Web/sites');
            const appSettings = appSettingsOf(walked, site);
            const names = Object.keys(appSettings);

            for (const name of AZURE_APP_SETTINGS) expect(names, `app setting ${name}`).toContain(name);
            expect(appSettings.COSMOS_DATABASE).toBe(DEFAULT_COSMOS_DATABASE);
            expect(appSettings.COSMOS_CONTAINER).toBe(DEFAULT_COSMOS_CONTAINER);
            expect(appSettings.AUTH_AUDIENCE).toBe(REQUIRED_PARAMETERS.authAudience);
            // Host storage by service URI (test/infra/host-storage.test.ts checks which services).
            expect(appSettings.AzureWebJobsStorage__credential).toBe('managedidentity');
            expect(names).toEqual(
                expect.arrayContaining(['AzureWebJobsStorage__blobServiceUri', 'AzureWebJobsStorage__clientId']),
            );
            expect(text(appSettings.APPLICATIONINSIGHTS_AUTHENTICATION_STRING)).toMatch(
                /^ClientId=.+;Authorization=AAD$/,
            );
            // The one secret: the app's own paging-token key, a secure parameter kept in the azd environment
            // (test/infra/azd-environment.test.ts).
            expect(names.filter((n) => /key|secret|password/i.test(n))).toEqual(['SKIPTOKEN_KEY']);
            const skipTokenKey = asObject(asObject(compiled.parameters).skipTokenKey);
            expect(skipTokenKey.type).toBe('securestring');
            expect(asObject(compiled.outputs ?? {})).not.toHaveProperty('skipTokenKey');
            expect(names.filter((n) => n === 'AzureWebJobsStorage' || n.endsWith('__connectionString'))).toEqual([]);
        });
    });

    describe('parameters checked at provision', () => {
        // Values lib/platform/config.ts accepts or refuses for AUTH_AUDIENCE; the Bicep must agree on every one.
        const AUDIENCES = [
            'api://office-config-assignments',
            '6f1c8c3e-2b4a-4d7e-9c1f-0a2b3c4d5e6f',
            '6F1C8C3E-2B4A-4D7E-9C1F-0A2B3C4D5E6F',
            'api://office-config-assignments,6f1c8c3e-2b4a-4d7e-9c1f-0a2b3c4d5e6f',
            ' api://office-config-assignments , 6f1c8c3e-2b4a-4d7e-9c1f-0a2b3c4d5e6f ',
            'https://contoso.onmicrosoft.com/assignments',
            'urn:contoso:assignments',
            'my-api:',
            'office-config-assignments',
            'office config assignments',
            'api://office-config-assignments,',
            ',api://office-config-assignments',
            'api://office config',
            '1api://office-config-assignments',
            'https://',
            'https:',
            '6f1c8c3e-2b4a-4d7e-9c1f-0a2b3c4d5e6',
            '6f1c8c3e2b4a4d7e9c1f0a2b3c4d5e6f',
            '6f1c8c3e-2b4a-4d7e-9c1f-0a2b3c4d5e6g',
        ];

        const acceptedByApp = (audience: string): boolean => {
            try {
                loadConfig({ AUTH_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47', AUTH_AUDIENCE: audience });
                return true;
            } catch {
                return false;
            }
        };
        const acceptedByBicep = (audience: string): boolean => {
            const invalid = variable(
                walk(compiled, { ...REQUIRED_PARAMETERS, authAudience: audience }),
                'invalidAuthAudiences',
            );
            expect(Array.isArray(invalid), audience).toBe(true);
            return (invalid as unknown[]).length === 0;
        };

        it('AUTH_AUDIENCE: the Bicep accepts exactly what lib/platform/config.ts accepts', () => {
            const verdicts = AUDIENCES.map((a) => [a, acceptedByApp(a)] as const);
            // Both kinds are in the sample, or the comparison would prove nothing.
            expect(verdicts.filter(([, ok]) => ok).length).toBeGreaterThanOrEqual(6);
            expect(verdicts.filter(([, ok]) => !ok).length).toBeGreaterThanOrEqual(6);
            expect(AUDIENCES.map((a) => [a, acceptedByBicep(a)])).toEqual(verdicts);
        });

        it('AUTH_AUDIENCE: a bad value fails the deployment with a message naming it; a good one passes through', () => {
            const good = walk(compiled, REQUIRED_PARAMETERS);
            expect(variable(good, 'checkedAuthAudience')).toBe(REQUIRED_PARAMETERS.authAudience);
            const bad = walk(compiled, { ...REQUIRED_PARAMETERS, authAudience: 'api://ok, not-a-uri' });
            // The value is a read of a missing property whose name is the message: ARM fails and shows it.
            const checked = variable(bad, 'checkedAuthAudience');
            expect(checked).toBeInstanceOf(Unresolved);
            const raw = text(asObject(compiled.variables).checkedAuthAudience ?? null);
            expect(raw).toMatch(/^\[if\(empty\(variables\('invalidAuthAudiences'\)\), parameters\('authAudience'\), /);
            expect(raw).toContain('AUTH_AUDIENCE must be');
            expect(variable(bad, 'invalidAuthAudiences')).toEqual(['not-a-uri']);
            // The app setting and the output both carry the checked value.
            const site = single(good, 'Microsoft.Web/sites');
            expect(appSettingsOf(good, site).AUTH_AUDIENCE).toBe(REQUIRED_PARAMETERS.authAudience);
            expect(text(asObject(asObject(compiled.outputs).AUTH_AUDIENCE).value ?? null)).toBe(
                "[variables('checkedAuthAudience')]",
            );
        });

        it('location: only regions that offer Flex Consumption', () => {
            const location = asObject(asObject(compiled.parameters).location);
            const allowed = location.allowedValues as string[];
            expect(Array.isArray(allowed)).toBe(true);
            expect(allowed.length).toBeGreaterThanOrEqual(20);
            expect(new Set(allowed).size).toBe(allowed.length);
            for (const region of allowed) expect(region).toMatch(/^[a-z0-9]+$/);
            expect(allowed).toEqual(expect.arrayContaining(['eastus', 'westeurope', 'northeurope', 'australiaeast']));
            expect(allowed).toContain(REQUIRED_PARAMETERS.location);
            // No Early Updates Access Program (canary) region, such as eastus2euap: for enrolled subscriptions only.
            expect(allowed.filter((region) => /euap$/.test(region))).toEqual([]);
        });
    });

    describe('network isolation (vnetEnabled)', () => {
        const NETWORK_TYPES = [
            'Microsoft.Network/virtualNetworks',
            'Microsoft.Network/privateEndpoints',
            'Microsoft.Network/privateDnsZones',
            'Microsoft.Network/privateDnsZones/virtualNetworkLinks',
            'Microsoft.Network/privateEndpoints/privateDnsZoneGroups',
        ];

        it('off (the default): no network resources, public endpoints, no VNet integration', () => {
            expect(asObject(asObject(compiled.parameters).vnetEnabled).defaultValue).toBe(false);
            for (const type of NETWORK_TYPES) expect(ofType(walked, type).filter(deployed), type).toEqual([]);
            expect(valueAt(single(walked, 'Microsoft.Storage/storageAccounts'), 'properties.publicNetworkAccess')).toBe(
                'Enabled',
            );
            expect(
                valueAt(single(walked, 'Microsoft.DocumentDB/databaseAccounts'), 'properties.publicNetworkAccess'),
            ).toBe('Enabled');
            expect(valueAt(single(walked, 'Microsoft.Web/sites'), 'properties.virtualNetworkSubnetId')).toBeNull();
        });

        it('on: a subnet delegated to Microsoft.App/environments that the app integrates with', () => {
            const vnet = single(isolated, 'Microsoft.Network/virtualNetworks');
            const subnets = valueAt(vnet, 'properties.subnets') as {
                name: string;
                properties: { delegations?: { properties: { serviceName: string } }[] };
            }[];
            const delegated = subnets.filter((s) =>
                s.properties.delegations?.some((d) => d.properties.serviceName === 'Microsoft.App/environments'),
            );
            expect(delegated.map((s) => s.name)).toEqual(['app']);
            const site = single(isolated, 'Microsoft.Web/sites');
            // The network module's output (the subnet's id), known only at deployment.
            const subnetId = valueAt(site, 'properties.virtualNetworkSubnetId');
            expect(subnetId).toBeInstanceOf(Unresolved);
            const passed = site.scope.params.get('virtualNetworkSubnetId');
            expect(passed).toBeInstanceOf(Unresolved);
            expect((passed as Unresolved).expression).toContain("reference('network').outputs.appSubnetId.value");
        });

        it('on: private endpoints and private DNS zones for Cosmos DB (Sql) and storage (blob)', () => {
            const storage = single(isolated, 'Microsoft.Storage/storageAccounts');
            const account = single(isolated, 'Microsoft.DocumentDB/databaseAccounts');
            const endpoints = ofType(isolated, 'Microsoft.Network/privateEndpoints').filter(deployed);
            const connections = endpoints.map((e) => {
                const [connection] = valueAt(e, 'properties.privateLinkServiceConnections') as {
                    properties: { privateLinkServiceId: string; groupIds: string[] };
                }[];
                return [connection?.properties.privateLinkServiceId, connection?.properties.groupIds];
            });
            expect(connections).toEqual(
                expect.arrayContaining([
                    [idOf(storage), ['blob']],
                    [idOf(account), ['Sql']],
                ]),
            );
            expect(connections).toHaveLength(2);
            const zones = ofType(isolated, 'Microsoft.Network/privateDnsZones').filter(deployed);
            expect(zones.map(resourceName).sort()).toEqual(['privatelink.blob.?', 'privatelink.documents.azure.com']);
            const links = ofType(isolated, 'Microsoft.Network/privateDnsZones/virtualNetworkLinks').filter(deployed);
            const vnet = single(isolated, 'Microsoft.Network/virtualNetworks');
            expect(links).toHaveLength(2);
            for (const link of links) expect(valueAt(link, 'properties.virtualNetwork.id')).toBe(idOf(vnet));
            const groups = ofType(isolated, 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups').filter(deployed);
            const zoneIds = groups.flatMap((g) =>
                (valueAt(g, 'properties.privateDnsZoneConfigs') as { properties: { privateDnsZoneId: string } }[]).map(
                    (c) => c.properties.privateDnsZoneId,
                ),
            );
            expect(zoneIds.sort()).toEqual(zones.map(idOf).sort());
        });

        it('on: public network access off on Cosmos DB and storage', () => {
            const storage = single(isolated, 'Microsoft.Storage/storageAccounts');
            expect(valueAt(storage, 'properties.publicNetworkAccess')).toBe('Disabled');
            expect(valueAt(storage, 'properties.networkAcls')).toEqual({ defaultAction: 'Deny', bypass: 'None' });
            const account = single(isolated, 'Microsoft.DocumentDB/databaseAccounts');
            expect(valueAt(account, 'properties.publicNetworkAccess')).toBe('Disabled');
        });
    });

    describe('diagnostics, alerts, workbook', () => {
        it('sends Cosmos DB, storage (blob) and function app logs and metrics to the Log Analytics workspace', () => {
            for (const [label, result] of bothWays()) {
                const workspace = single(result, 'Microsoft.OperationalInsights/workspaces');
                const settings = ofType(result, 'Microsoft.Insights/diagnosticSettings').filter(deployed);
                for (const setting of settings)
                    expect(valueAt(setting, 'properties.workspaceId'), label).toBe(idOf(workspace));
                const scopes = settings.map((s) => text(valueAt(s, 'scope')));
                const cosmosId = idOf(single(result, 'Microsoft.DocumentDB/databaseAccounts'));
                const storageId = idOf(single(result, 'Microsoft.Storage/storageAccounts'));
                const siteId = idOf(single(result, 'Microsoft.Web/sites'));
                const blobId = `${storageId}/blobServices/default`;
                expect(scopes.sort(), label).toEqual([cosmosId, storageId, blobId, siteId].sort());
                const logs = (s: FoundResource) =>
                    ((valueAt(s, 'properties.logs') ?? []) as { category: string }[]).map((l) => l.category);
                const byScope = new Map(settings.map((s) => [text(valueAt(s, 'scope')), logs(s)]));
                expect(byScope.get(cosmosId)).toEqual(
                    expect.arrayContaining(['DataPlaneRequests', 'PartitionKeyRUConsumption']),
                );
                expect(byScope.get(blobId)).toEqual(
                    expect.arrayContaining(['StorageRead', 'StorageWrite', 'StorageDelete']),
                );
                expect(byScope.get(siteId)).toEqual(['FunctionAppLogs']);
            }
        });

        // The server-error (5xx) alert is a log search on Application Insights: test/infra/metrics.test.ts.
        it('alerts on Cosmos DB 429s and request units, to an action group whose e-mail is a parameter', () => {
            const alerts = ofType(walked, 'Microsoft.Insights/metricAlerts').filter(deployed);
            const actionGroup = single(walked, 'Microsoft.Insights/actionGroups');
            const account = single(walked, 'Microsoft.DocumentDB/databaseAccounts');
            type Criterion = {
                metricNamespace: string;
                metricName: string;
                dimensions?: { name: string; values: string[] }[];
                threshold: number;
            };
            const summary = alerts.map((alert) => {
                const [criterion] = (valueAt(alert, 'properties.criteria') as { allOf: Criterion[] }).allOf;
                expect(valueAt(alert, 'properties.actions')).toEqual([{ actionGroupId: idOf(actionGroup) }]);
                return {
                    scope: (valueAt(alert, 'properties.scopes') as string[])[0],
                    metric: `${criterion?.metricNamespace}:${criterion?.metricName}`,
                    dimensions: criterion?.dimensions?.map((d) => `${d.name}=${d.values.join('|')}`) ?? [],
                    threshold: criterion?.threshold,
                };
            });
            expect(summary).toEqual(
                expect.arrayContaining([
                    {
                        scope: idOf(account),
                        metric: 'Microsoft.DocumentDB/databaseAccounts:TotalRequests',
                        dimensions: ['StatusCode=429'],
                        threshold: 10,
                    },
                    {
                        scope: idOf(account),
                        metric: 'Microsoft.DocumentDB/databaseAccounts:TotalRequestUnits',
                        dimensions: [],
                        threshold: 500000,
                    },
                ]),
            );
            expect(summary).toHaveLength(2);
            expect(valueAt(actionGroup, 'properties.emailReceivers')).toEqual([]);
            const notified = walk(compiled, { ...REQUIRED_PARAMETERS, alertEmail: 'ops@contoso.com' });
            expect(valueAt(single(notified, 'Microsoft.Insights/actionGroups'), 'properties.emailReceivers')).toEqual([
                { name: 'operator', emailAddress: 'ops@contoso.com', useCommonAlertSchema: true },
            ]);
        });

        it('ships a workbook over Application Insights that queries the names lib/platform/telemetry records', () => {
            // lib/platform/telemetryWorker.ts runs only on a worker thread (it throws elsewhere): read its constants as text.
            const worker = readFileSync(path.join(repoRoot, 'lib', 'platform', 'telemetryWorker.ts'), 'utf8');
            const constant = (name: string) => new RegExp(`export const ${name} = '([^']+)'`).exec(worker)?.[1];
            const dependencyType = constant('COSMOS_DEPENDENCY_TYPE');
            const createMetric = constant('CREATE_CHARGE_METRIC');
            expect([dependencyType, createMetric]).toEqual(['Azure DocumentDB', 'cosmos.requestCharge.create']);

            const workbook = single(walked, 'Microsoft.Insights/workbooks');
            const appInsights = single(walked, 'Microsoft.Insights/components');
            expect(valueAt(workbook, 'properties.sourceId')).toBe(idOf(appInsights));
            expect(valueAt(workbook, 'kind')).toBe('shared');
            const content = JSON.parse(text(valueAt(workbook, 'properties.serializedData'))) as {
                version: string;
                fallbackResourceIds: string[];
                items: { type: number; content: { query?: string; title?: string } }[];
            };
            expect(content.version).toBe('Notebook/1.0');
            // Opened outside the Application Insights blade (Workbooks gallery, a link), it queries that component.
            expect(content.fallbackResourceIds).toEqual([idOf(appInsights)]);
            const queries = content.items.filter((i) => i.type === 3).map((i) => i.content.query ?? '');
            const find = (pattern: RegExp) => queries.filter((q) => pattern.test(q));
            expect(find(/^requests\b[\s\S]*countif\(success == false\)/)).toHaveLength(1);
            expect(
                find(/percentile\(duration, 50\)[\s\S]*percentile\(duration, 95\)[\s\S]*percentile\(duration, 99\)/),
            ).toHaveLength(1);
            expect(
                find(new RegExp(`^customMetrics[\\s\\S]*name == "${createMetric?.replace(/\./g, '\\.')}"`)),
            ).toHaveLength(1);
            expect(find(new RegExp(`^dependencies[\\s\\S]*type == "${dependencyType}"`))).toHaveLength(1);
            // Dependencies are sampled under load (lib/platform/sampling): a record stands for `itemCount` calls.
            const dependencyQueries = find(/^dependencies\b/);
            expect(dependencyQueries.length).toBeGreaterThan(0);
            for (const query of dependencyQueries) {
                expect(query).toMatch(/Calls = sum\(itemCount\)/);
                expect(query).not.toMatch(/\bcount\(\)|\bpercentile\(/); // counts and percentiles weighted by itemCount
                expect(query).toMatch(/percentilew\(duration, itemCount, 95\)/);
            }
        });
    });

    describe('storage, monitoring, roles', () => {
        it('storage: no shared keys, no public blobs, HTTPS and TLS 1.2 only', () => {
            const storage = single(walked, 'Microsoft.Storage/storageAccounts');
            expect(valueAt(storage, 'properties.allowSharedKeyAccess')).toBe(false);
            expect(valueAt(storage, 'properties.allowBlobPublicAccess')).toBe(false);
            expect(valueAt(storage, 'properties.supportsHttpsTrafficOnly')).toBe(true);
            expect(valueAt(storage, 'properties.minimumTlsVersion')).toBe('TLS1_2');
            expect(ofType(walked, 'Microsoft.Storage/storageAccounts/blobServices/containers')).toHaveLength(1);
        });

        it('Application Insights: workspace-based, local auth off', () => {
            const appInsights = single(walked, 'Microsoft.Insights/components');
            expect(valueAt(appInsights, 'properties.DisableLocalAuth')).toBe(true);
            single(walked, 'Microsoft.OperationalInsights/workspaces');
        });

        it('grants Storage Blob Data Owner and Monitoring Metrics Publisher to the identity, by fully qualified id', () => {
            const roles = ofType(walked, 'Microsoft.Authorization/roleAssignments')
                .filter(deployed)
                .map((r) => valueAt(r, 'properties.roleDefinitionId'));
            const definition = (guid: string) =>
                `/subscriptions/{subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
            expect(roles.sort()).toEqual(
                [definition(STORAGE_BLOB_DATA_OWNER), definition(MONITORING_METRICS_PUBLISHER)].sort(),
            );
            single(walked, 'Microsoft.ManagedIdentity/userAssignedIdentities');
        });

        it('tags every tracked resource with azd-env-name, either way', () => {
            for (const [label, result] of bothWays()) {
                const tracked = result.resources.filter(deployed).filter((r) => 'location' in r.raw);
                expect(tracked.length).toBeGreaterThan(5);
                for (const resource of tracked) {
                    expect(valueAt(resource, 'tags'), `${label} ${resource.type} tags`).toMatchObject({
                        'azd-env-name': 'test',
                    });
                }
            }
        });
    });

    describe('parameters and outputs', () => {
        it('documents every parameter of every template', () => {
            const undocumented = walked.parameters
                .filter((p) => typeof asObject(p.raw.metadata).description !== 'string')
                .map((p) => [...p.path, p.name].join('/'));
            expect(undocumented).toEqual([]);
        });

        it('gives no secret in any output, nested modules included', () => {
            expect(walked.outputs.length).toBeGreaterThan(0);
            const secretWords = /key|secret|password|connectionstring|listkeys/i;
            for (const output of walked.outputs) {
                const where = [...output.path, output.name].join('/');
                expect(text(output.raw.type ?? null).toLowerCase(), where).not.toMatch(/^secure(string|object)$/);
                expect(output.name, where).not.toMatch(secretWords);
                expect(JSON.stringify(output.raw.value), where).not.toMatch(secretWords);
            }
        });

        it('outputs what azd and the API clients need', () => {
            const outputs = asObject(compiled.outputs);
            for (const name of [
                'AZURE_LOCATION',
                'AZURE_TENANT_ID',
                'AZURE_RESOURCE_GROUP',
                'AZURE_FUNCTION_APP_NAME',
                'API_BASE_URL',
                'COSMOS_ACCOUNT_NAME',
                'COSMOS_ENDPOINT',
                'COSMOS_DATABASE',
                'COSMOS_CONTAINER',
                'API_IDENTITY_CLIENT_ID',
            ]) {
                expect(outputs, name).toHaveProperty(name);
            }
            expect(text(asObject(outputs.API_BASE_URL).value ?? null)).toMatch(/^\[format\('https:\/\/\{0\}\/beta'/);
        });

        it('main.parameters.json supplies every required parameter and names only real ones', () => {
            const file = JSON.parse(readFileSync(parametersFile, 'utf8')) as {
                parameters: Record<string, { value: unknown }>;
            };
            const declared = asObject(compiled.parameters);
            const required = Object.entries(declared)
                .filter(([, definition]) => !('defaultValue' in asObject(definition)))
                .map(([name]) => name);
            for (const name of required) expect(Object.keys(file.parameters), name).toContain(name);
            for (const name of Object.keys(file.parameters)) expect(Object.keys(declared), name).toContain(name);
            // The operations switches are reachable from the azd environment.
            expect(file.parameters.vnetEnabled?.value).toBe('${VNET_ENABLED=false}');
            expect(file.parameters.alertEmail?.value).toBe('${ALERT_EMAIL=}');
        });
    });
});
