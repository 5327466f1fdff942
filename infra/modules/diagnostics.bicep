// Diagnostic settings: the platform logs and metrics of Cosmos DB, the storage account (blob service) and the function
// app go to the Log Analytics workspace that already holds the app's Application Insights telemetry, so one workspace
// answers "what did the service, its database and its storage do" for the same minutes.

@description('Name of the existing Log Analytics workspace that receives the logs and metrics.')
@minLength(4)
@maxLength(63)
param logAnalyticsName string

@description('Name of the existing Cosmos DB account.')
@minLength(3)
@maxLength(44)
param cosmosAccountName string

@description('Name of the existing storage account (host storage and deployment package).')
@minLength(3)
@maxLength(24)
param storageAccountName string

@description('Name of the existing function app.')
@minLength(2)
@maxLength(60)
param functionAppName string

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2026-03-01' existing = {
  name: logAnalyticsName
}

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2026-03-15' existing = {
  name: cosmosAccountName
}

resource storage 'Microsoft.Storage/storageAccounts@2026-06-01' existing = {
  name: storageAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'
  }
}

resource functionApp 'Microsoft.Web/sites@2025-03-01' existing = {
  name: functionAppName
}

// Resource-specific tables (CDBDataPlaneRequests, CDBPartitionKeyRUConsumption, ...) rather than AzureDiagnostics:
// typed columns and cheaper queries, as the Cosmos DB monitoring docs recommend.
// 2021-05-01-preview is the newest version of Microsoft.Insights/diagnosticSettings in the ARM reference
// (learn.microsoft.com/azure/templates/microsoft.insights/diagnosticsettings). The linter's only alternative,
// 2016-09-01, is a different, older shape (named 'service', no workspace destination type), hence the suppressions.
#disable-next-line use-recent-api-versions
resource cosmosDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: cosmos
  properties: {
    workspaceId: logAnalytics.id
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      { category: 'DataPlaneRequests', enabled: true }
      { category: 'QueryRuntimeStatistics', enabled: true }
      { category: 'PartitionKeyStatistics', enabled: true }
      { category: 'PartitionKeyRUConsumption', enabled: true }
      { category: 'ControlPlaneRequests', enabled: true }
    ]
    metrics: [
      { category: 'Requests', enabled: true }
    ]
  }
}

#disable-next-line use-recent-api-versions
resource storageDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storage
  properties: {
    workspaceId: logAnalytics.id
    metrics: [
      { category: 'Transaction', enabled: true }
    ]
  }
}

// Blob logs live on the blob service, not on the account.
#disable-next-line use-recent-api-versions
resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storage::blobService
  properties: {
    workspaceId: logAnalytics.id
    logs: [
      { category: 'StorageRead', enabled: true }
      { category: 'StorageWrite', enabled: true }
      { category: 'StorageDelete', enabled: true }
    ]
    metrics: [
      { category: 'Transaction', enabled: true }
    ]
  }
}

#disable-next-line use-recent-api-versions
resource functionAppDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: functionApp
  properties: {
    workspaceId: logAnalytics.id
    logs: [
      { category: 'FunctionAppLogs', enabled: true }
    ]
    metrics: [
      { category: 'AllMetrics', enabled: true }
    ]
  }
}
