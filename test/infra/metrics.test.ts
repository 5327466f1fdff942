/**
 * Alerts that can fire: every metric alert of the compiled template names a metric that its target's resource type
 * emits, as infra/metrics.json lists them from Microsoft's documentation (with an aggregation and dimensions that
 * metric has). A Flex Consumption app emits no Http5xx: server errors are alerted on from Application Insights'
 * requests by a log search alert. Bicep's types and ARM accept an alert on any metric name; it just never fires.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import {
    bicepCli,
    CLI_TIMEOUT_MS,
    deployed,
    idOf,
    INSTALL_TIMEOUT_MS,
    type JsonObject,
    ofType,
    repoRoot,
    resourceName,
    runBicep,
    single,
    text,
    type Value,
    valueAt,
    walk,
    type Walked,
} from './arm.js';

interface Source {
    title: string;
    url: string;
    read: string;
}

interface ResourceMetrics {
    appliesTo: string;
    sources: Source[];
    metrics: Record<string, { aggregations: string[]; dimensions: string[] }>;
}

const metricsFile = path.join(repoRoot, 'infra', 'metrics.json');
const metricsData = JSON.parse(readFileSync(metricsFile, 'utf8')) as { resourceTypes: Record<string, ResourceMetrics> };

const REQUIRED_PARAMETERS = {
    environmentName: 'test',
    location: 'westeurope',
    authAudience: 'api://office-config-assignments',
};

interface Criterion {
    metricNamespace?: string;
    metricName?: string;
    timeAggregation?: string;
    dimensions?: { name: string }[];
}

/** The resource type of a resource id: `.../providers/NS/type/name/child/name` -> `NS/type/child`. */
function resourceTypeOf(id: string): string | undefined {
    const match = /\/providers\/(.+)$/i.exec(id);
    if (!match) return undefined;
    const [namespace, ...rest] = (match[1] as string).split('/');
    const types = rest.filter((_, i) => i % 2 === 0);
    return types.length > 0 ? [namespace, ...types].join('/') : undefined;
}

function findKey<T>(record: Record<string, T>, key: string): T | undefined {
    const found = Object.keys(record).find((k) => k.toLowerCase() === key.toLowerCase());
    return found === undefined ? undefined : record[found];
}

/** What is wrong with each metric alert of a template, measured against infra/metrics.json (empty: nothing). */
function metricAlertViolations(
    walked: Walked,
    data: { resourceTypes: Record<string, ResourceMetrics> } = metricsData,
): string[] {
    const found: string[] = [];
    for (const alert of ofType(walked, 'Microsoft.Insights/metricAlerts').filter(deployed)) {
        const name = resourceName(alert);
        const scopes = (valueAt(alert, 'properties.scopes') ?? []) as Value[];
        const criteria = (valueAt(alert, 'properties.criteria') as { allOf?: Criterion[] } | undefined)?.allOf ?? [];
        if (scopes.length === 0 || criteria.length === 0) found.push(`${name}: no scope or no criterion`);
        for (const scope of scopes) {
            const type = resourceTypeOf(text(scope));
            if (!type) {
                found.push(`${name}: scope ${text(scope)} is not a resource id`);
                continue;
            }
            const listed = findKey(data.resourceTypes, type);
            for (const criterion of criteria) {
                const metricName = criterion.metricName ?? '';
                const namespace = criterion.metricNamespace ?? type;
                if (namespace.toLowerCase() !== type.toLowerCase()) {
                    found.push(`${name}: metric namespace ${namespace} is not its target's type ${type}`);
                }
                if (!listed) {
                    found.push(`${name}: infra/metrics.json lists no metric of ${type}`);
                    continue;
                }
                const metric = findKey(listed.metrics, metricName);
                if (!metric) {
                    found.push(`${name}: ${type} emits no metric ${metricName}`);
                    continue;
                }
                if (!metric.aggregations.includes(criterion.timeAggregation ?? '')) {
                    found.push(`${name}: ${metricName} has no aggregation ${criterion.timeAggregation ?? '(none)'}`);
                }
                for (const dimension of criterion.dimensions ?? []) {
                    if (!metric.dimensions.some((d) => d.toLowerCase() === dimension.name.toLowerCase())) {
                        found.push(`${name}: ${metricName} has no dimension ${dimension.name}`);
                    }
                }
            }
        }
    }
    return found;
}

describe('infra/metrics.json', () => {
    it('keeps, per resource type, the metrics Microsoft documents, with the sources and the date they were read', () => {
        const types = Object.keys(metricsData.resourceTypes);
        expect(types).toEqual(
            expect.arrayContaining([
                'Microsoft.Web/sites',
                'Microsoft.DocumentDB/databaseAccounts',
                'Microsoft.Insights/components',
            ]),
        );
        for (const [type, entry] of Object.entries(metricsData.resourceTypes)) {
            expect(entry.sources.length, type).toBeGreaterThan(0);
            for (const source of entry.sources) {
                expect(source.url, type).toMatch(/^https:\/\/(learn\.microsoft\.com|github\.com)\//);
                expect(source.read, type).toMatch(/^\d{4}-\d{2}-\d{2}$/);
            }
            expect(
                entry.sources.some((s) => s.url.startsWith('https://learn.microsoft.com/')),
                type,
            ).toBe(true);
            expect(Object.keys(entry.metrics).length, type).toBeGreaterThan(0);
        }
        // Microsoft.Web/sites here is a Flex Consumption app: the metrics of the Flex tab, not App Service's.
        const sites = metricsData.resourceTypes['Microsoft.Web/sites'] as ResourceMetrics;
        expect(sites.sources.map((s) => s.url)).toContain(
            'https://learn.microsoft.com/azure/azure-functions/monitor-functions-reference?tabs=flex-consumption-plan#metrics',
        );
        expect(Object.keys(sites.metrics)).toEqual(
            expect.arrayContaining([
                'OnDemandFunctionExecutionCount',
                'AlwaysReadyFunctionExecutionCount',
                'OnDemandFunctionExecutionUnits',
                'AlwaysReadyFunctionExecutionUnits',
                'AlwaysReadyUnits',
                'InstanceCount',
                'MemoryWorkingSet',
                'AverageMemoryWorkingSet',
            ]),
        );
        for (const absent of ['Http5xx', 'Http4xx', 'Requests', 'HttpResponseTime', 'FunctionExecutionCount']) {
            expect(Object.keys(sites.metrics), absent).not.toContain(absent);
        }
    });

    it('the check finds an alert on a metric its target does not emit, or with an aggregation or dimension it lacks', () => {
        const site = { type: 'Microsoft.Web/sites', name: 'app', properties: {} };
        const account = { type: 'Microsoft.DocumentDB/databaseAccounts', name: 'db', properties: {} };
        const alert = (scope: string, criterion: JsonObject): JsonObject => ({
            type: 'Microsoft.Insights/metricAlerts',
            name: `alert-${text(criterion.metricName ?? '')}`,
            properties: { scopes: [scope], criteria: { allOf: [criterion] } },
        });
        const siteId = "[resourceId('Microsoft.Web/sites', 'app')]";
        const accountId = "[resourceId('Microsoft.DocumentDB/databaseAccounts', 'db')]";
        const check = (...alerts: JsonObject[]) =>
            metricAlertViolations(walk({ parameters: {}, variables: {}, resources: [site, account, ...alerts] }));
        const criterion = (metricNamespace: string, metricName: string, timeAggregation: string, dimensions = []) => ({
            metricNamespace,
            metricName,
            timeAggregation,
            dimensions,
        });
        expect(
            check(alert(siteId, criterion('Microsoft.Web/sites', 'OnDemandFunctionExecutionCount', 'Total'))),
        ).toEqual([]);
        expect(check(alert(siteId, criterion('Microsoft.Web/sites', 'Http5xx', 'Total')))).toEqual([
            'alert-Http5xx: Microsoft.Web/sites emits no metric Http5xx',
        ]);
        expect(
            check(
                alert(accountId, {
                    ...criterion('Microsoft.DocumentDB/databaseAccounts', 'TotalRequests', 'Total'),
                    dimensions: [{ name: 'StatusCode' }, { name: 'Shard' }],
                }),
            ),
        ).toEqual([
            'alert-TotalRequests: TotalRequests has no aggregation Total',
            'alert-TotalRequests: TotalRequests has no dimension Shard',
        ]);
        expect(check(alert(accountId, criterion('Microsoft.Web/sites', 'TotalRequests', 'Count')))).toEqual([
            "alert-TotalRequests: metric namespace Microsoft.Web/sites is not its target's type Microsoft.DocumentDB/databaseAccounts",
        ]);
        expect(
            check(
                alert("[resourceId('Microsoft.Cache/redis', 'r')]", criterion('Microsoft.Cache/redis', 'x', 'Total')),
            ),
        ).toEqual(['alert-x: infra/metrics.json lists no metric of Microsoft.Cache/redis']);
        expect(resourceTypeOf('/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/a')).toBe(
            'Microsoft.Storage/storageAccounts',
        );
        expect(resourceTypeOf('/subscriptions/s/providers/Microsoft.Web/sites/a/slots/b')).toBe(
            'Microsoft.Web/sites/slots',
        );
    });
});

describe('the alerts of infra/main.bicep', () => {
    let compiled: JsonObject;
    let walked: Walked;
    let isolated: Walked;

    beforeAll(() => {
        bicepCli(); // installs it first where it is missing (test/infra/arm.ts)
        compiled = JSON.parse(
            runBicep(['build', path.join(repoRoot, 'infra', 'main.bicep'), '--stdout']),
        ) as JsonObject;
        walked = walk(compiled, REQUIRED_PARAMETERS);
        isolated = walk(compiled, { ...REQUIRED_PARAMETERS, vnetEnabled: true });
    }, INSTALL_TIMEOUT_MS + CLI_TIMEOUT_MS);

    it('every metric alert names a metric its target emits (infra/metrics.json), either way', () => {
        for (const [label, result] of [
            ['vnetEnabled=false', walked],
            ['vnetEnabled=true', isolated],
        ] as const) {
            expect(ofType(result, 'Microsoft.Insights/metricAlerts').filter(deployed).length, label).toBeGreaterThan(0);
            expect(metricAlertViolations(result), label).toEqual([]);
        }
    });

    it('every site runs on the Flex Consumption plan, the plan whose metrics infra/metrics.json lists', () => {
        const plans = new Map(
            ofType(walked, 'Microsoft.Web/serverfarms')
                .filter(deployed)
                .map((plan) => [idOf(plan), valueAt(plan, 'sku')]),
        );
        const sites = ofType(walked, 'Microsoft.Web/sites').filter(deployed);
        expect(sites.length).toBeGreaterThan(0);
        for (const site of sites) {
            expect(plans.get(text(valueAt(site, 'properties.serverFarmId'))), resourceName(site)).toMatchObject({
                name: 'FC1',
                tier: 'FlexConsumption',
            });
        }
    });

    it("alerts on the API's server errors (5xx) with a log search on Application Insights requests", () => {
        const rule = single(walked, 'Microsoft.Insights/scheduledQueryRules');
        const appInsights = single(walked, 'Microsoft.Insights/components');
        const actionGroup = single(walked, 'Microsoft.Insights/actionGroups');
        expect(valueAt(rule, 'properties.scopes')).toEqual([idOf(appInsights)]);
        expect(valueAt(rule, 'location')).toBe(REQUIRED_PARAMETERS.location);
        expect(valueAt(rule, 'properties.severity')).toBe(1);
        expect(valueAt(rule, 'properties.enabled')).toBe(true);
        expect(valueAt(rule, 'properties.windowSize')).toBe('PT5M');
        const [criterion, ...others] = (
            valueAt(rule, 'properties.criteria') as {
                allOf: {
                    query: string;
                    timeAggregation: string;
                    metricMeasureColumn?: string;
                    operator: string;
                    threshold: number;
                }[];
            }
        ).allOf;
        expect(others).toEqual([]);
        expect(criterion?.query).toMatch(/^requests\b/);
        expect(criterion?.query).toMatch(/toint\(resultCode\) >= 500/);
        // Requests are kept out of sampling (host.json), but a sampled record stands for itemCount requests.
        expect([criterion?.timeAggregation, criterion?.metricMeasureColumn]).toEqual(['Total', 'itemCount']);
        expect([criterion?.operator, criterion?.threshold]).toEqual(['GreaterThanOrEqual', 5]);
        expect(valueAt(rule, 'properties.actions')).toEqual({ actionGroups: [idOf(actionGroup)] });
        const threshold = walk(compiled, { ...REQUIRED_PARAMETERS, alertHttp5xxPer5Minutes: 20 });
        const criteria = valueAt(single(threshold, 'Microsoft.Insights/scheduledQueryRules'), 'properties.criteria');
        expect((criteria as { allOf: { threshold: number }[] }).allOf[0]?.threshold).toBe(20);
    });
});
