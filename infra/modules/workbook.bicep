// An Azure Monitor workbook over the app's own telemetry in Application Insights, so that an operator looks instead of
// querying: requests and failures, latency percentiles, request units per create, Cosmos DB calls. Its content is
// infra/workbooks/api-operations.workbook.json (edit it in the portal's Advanced Editor and paste it back).

@description('Azure region of the workbook.')
param location string

@description('Tags applied to the workbook.')
param tags object

@description('Name of the existing Application Insights component the workbook queries.')
@minLength(1)
@maxLength(260)
param appInsightsName string

@description('Display name of the workbook in the portal.')
@minLength(1)
param displayName string

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // Workbook names must be GUIDs; this one is stable per component, so a redeployment updates it in place.
  name: guid(appInsights.id, 'api-operations-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: appInsights.id
    // fallbackResourceIds: the component the workbook queries when opened outside its blade (Azure Monitor ->
    // Workbooks, a link); the file keeps the portal's export, whose list is empty.
    serializedData: string(union(loadJsonContent('../workbooks/api-operations.workbook.json'), {
      fallbackResourceIds: [
        appInsights.id
      ]
    }))
  }
}

@description('Resource id of the workbook.')
output id string = workbook.id
