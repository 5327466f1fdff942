// Metric alerts an operator acts on, sent to one action group (e-mail):
//   - the function app answers 5xx (server errors: the store unavailable, throttled past the SDK's retries, a bug),
//   - Cosmos DB throttles requests (429): the container needs more RU/s, or a client misbehaves,
//   - Cosmos DB consumes more request units per hour than expected (cost, or a hot loop).

@description('Name prefix of the action group and the alerts.')
@minLength(1)
@maxLength(50)
param namePrefix string

@description('Tags applied to the action group and the alerts.')
param tags object

@description('E-mail address that receives the alerts. Empty: the alerts fire (portal, Azure Monitor) but notify no one.')
param alertEmail string

@description('Name of the existing function app.')
@minLength(2)
@maxLength(60)
param functionAppName string

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

resource functionApp 'Microsoft.Web/sites@2025-03-01' existing = {
  name: functionAppName
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

resource http5xx 'Microsoft.Insights/metricAlerts@2026-01-01' = {
  name: 'alert-${namePrefix}-http5xx'
  location: 'global'
  tags: tags
  properties: {
    description: 'The API answered more than ${http5xxThreshold} server errors (5xx) in 5 minutes.'
    severity: 1
    enabled: true
    scopes: [
      functionApp.id
    ]
    evaluationFrequency: 'PT1M'
    windowSize: 'PT5M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'http5xx'
          metricNamespace: 'Microsoft.Web/sites'
          metricName: 'Http5xx'
          timeAggregation: 'Total'
          operator: 'GreaterThanOrEqual'
          threshold: http5xxThreshold
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
