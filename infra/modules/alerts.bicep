// Alerts an operator acts on, sent to one action group (e-mail):
//   - the API answers server errors (5xx: the store unavailable, throttled past the SDK's retries, a bug): a log search
//     alert on Application Insights' `requests`, because a Flex Consumption app emits no Http5xx metric
//     (infra/metrics.json lists the metrics it does emit; test/infra/metrics.test.ts checks every metric alert),
//   - Cosmos DB throttles requests (429): the container needs more RU/s, or a client misbehaves,
//   - Cosmos DB consumes more request units per hour than expected (cost, or a hot loop).

@description('Name prefix of the action group and the alerts.')
@minLength(1)
@maxLength(50)
param namePrefix string

@description('Azure region of the log search alert (that of the Application Insights component it queries).')
param location string

@description('Tags applied to the action group and the alerts.')
param tags object

@description('E-mail address that receives the alerts. Empty: the alerts fire (portal, Azure Monitor) but notify no one.')
param alertEmail string

@description('Name of the existing Application Insights component whose requests the server-error alert counts.')
@minLength(1)
@maxLength(260)
param appInsightsName string

@description('Name of the existing Cosmos DB account.')
@minLength(3)
@maxLength(44)
param cosmosAccountName string

@description('Server errors (HTTP 5xx) in 5 minutes that raise the alert.')
@minValue(1)
param http5xxThreshold int

@description('Throttled Cosmos DB requests (HTTP 429) in 5 minutes that raise the alert.')
@minValue(1)
param throttledRequestsThreshold int

@description('Request units consumed in one hour that raise the alert.')
@minValue(1)
param requestUnitsPerHourThreshold int

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2026-03-15' existing = {
  name: cosmosAccountName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag-${namePrefix}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: take('api-${namePrefix}', 12)
    enabled: true
    emailReceivers: empty(alertEmail)
      ? []
      : [
          {
            name: 'operator'
            emailAddress: alertEmail
            useCommonAlertSchema: true
          }
        ]
  }
}

// The Functions host records every invocation in Application Insights' `requests` (host.json keeps them out of
// sampling; itemCount counts any that were sampled all the same). requests/failed would count 4xx answers too.
resource serverErrors 'Microsoft.Insights/scheduledQueryRules@2026-03-01' = {
  name: 'alert-${namePrefix}-server-errors'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'alert-${namePrefix}-server-errors'
    description: 'The API answered at least ${http5xxThreshold} server errors (5xx) in 5 minutes (Application Insights requests).'
    severity: 1
    enabled: true
    scopes: [
      appInsights.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    criteria: {
      allOf: [
        {
          query: 'requests | where toint(resultCode) >= 500'
          timeAggregation: 'Total'
          metricMeasureColumn: 'itemCount'
          operator: 'GreaterThanOrEqual'
          threshold: http5xxThreshold
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

resource cosmosThrottled 'Microsoft.Insights/metricAlerts@2026-01-01' = {
  name: 'alert-${namePrefix}-cosmos-429'
  location: 'global'
  tags: tags
  properties: {
    description: 'Cosmos DB throttled more than ${throttledRequestsThreshold} requests (429) in 5 minutes.'
    severity: 2
    enabled: true
    scopes: [
      cosmos.id
    ]
    evaluationFrequency: 'PT1M'
    windowSize: 'PT5M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'throttled'
          metricNamespace: 'Microsoft.DocumentDB/databaseAccounts'
          metricName: 'TotalRequests'
          dimensions: [
            {
              name: 'StatusCode'
              operator: 'Include'
              values: [
                '429'
              ]
            }
          ]
          timeAggregation: 'Count'
          operator: 'GreaterThanOrEqual'
          threshold: throttledRequestsThreshold
        }
      ]
    }
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}

resource cosmosRequestUnits 'Microsoft.Insights/metricAlerts@2026-01-01' = {
  name: 'alert-${namePrefix}-cosmos-ru'
  location: 'global'
  tags: tags
  properties: {
    description: 'Cosmos DB consumed more than ${requestUnitsPerHourThreshold} request units in one hour.'
    severity: 3
    enabled: true
    scopes: [
      cosmos.id
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT1H'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'requestUnits'
          metricNamespace: 'Microsoft.DocumentDB/databaseAccounts'
          metricName: 'TotalRequestUnits'
          timeAggregation: 'Total'
          operator: 'GreaterThan'
          threshold: requestUnitsPerHourThreshold
        }
      ]
    }
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}

@description('Resource id of the action group.')
output actionGroupId string = actionGroup.id
