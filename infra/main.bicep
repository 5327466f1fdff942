// Office client configuration assignments API (Microsoft Graph beta shape) on Azure Functions
// Flex Consumption + Cosmos DB for NoSQL. Deployed by `azd up` (see azure.yaml) at subscription scope.
targetScope = 'subscription'

@description('Name of the azd environment; names the resource group (rg-<name>) and seeds every resource name.')
@minLength(1)
@maxLength(64)
param environmentName string

@description('Azure region for every resource; it must offer the Functions Flex Consumption plan.')
@minLength(1)
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the deployer (azd sets AZURE_PRINCIPAL_ID). Gets Cosmos DB data and blob roles for local runs and diagnostics. Empty: no deployer roles.')
param principalId string = ''

@description('Principal type of principalId: User for a person, ServicePrincipal for CI.')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param principalType string = 'User'

@description('Audience the API accepts in bearer tokens: the API app registration\'s App ID URI (api://...) or its client id. Becomes the AUTH_AUDIENCE app setting.')
@minLength(1)
param authAudience string

@description('Entra ID tenant whose tokens the API accepts (AUTH_TENANT_ID). Defaults to the tenant of the deployment.')
@minLength(1)
param authTenantId string = tenant().tenantId

@description('Cosmos DB database name (COSMOS_DATABASE). Must match DEFAULT_COSMOS_DATABASE in lib/config.ts unless the setting is changed with it.')
@minLength(1)
@maxLength(255)
param cosmosDatabaseName string = 'officeConfiguration'

@description('Cosmos DB container name (COSMOS_CONTAINER). Must match DEFAULT_COSMOS_CONTAINER in lib/config.ts unless the setting is changed with it.')
@minLength(1)
@maxLength(255)
param cosmosContainerName string = 'clientConfigurationAssignments'

@description('Cosmos DB capacity: serverless (pay per request, default) or autoscale (provisioned autoscale throughput on the container).')
@allowed([
  'serverless'
  'autoscale'
])
param cosmosThroughputMode string = 'serverless'

@description('Maximum RU/s of the container when cosmosThroughputMode is autoscale (ignored for serverless).')
@minValue(1000)
@maxValue(1000000)
param cosmosAutoscaleMaxThroughput int = 1000

@description('Maximum number of instances the function app scales out to (Flex Consumption).')
@minValue(1)
@maxValue(1000)
param functionMaximumInstanceCount int = 100

@description('Memory of each function app instance, in MB (Flex Consumption).')
@allowed([
  512
  2048
  4096
])
param functionInstanceMemoryMB int = 2048

@description('Days the Log Analytics workspace keeps logs and telemetry.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}

// Every name is a deployment-time constant derived from resourceToken (keeps what-if exact).
var names = {
  resourceGroup: 'rg-${environmentName}'
  identity: 'id-api-${resourceToken}'
  storage: 'st${resourceToken}'
  deploymentContainer: 'app-package'
  logAnalytics: 'log-${resourceToken}'
  appInsights: 'appi-${resourceToken}'
  cosmos: 'cosmos-${resourceToken}'
  plan: 'plan-${resourceToken}'
  functionApp: 'func-api-${resourceToken}'
}

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: names.resourceGroup
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: names.identity
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: names.storage
    deploymentContainerName: names.deploymentContainer
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: names.logAnalytics
    appInsightsName: names.appInsights
    location: location
    tags: tags
    retentionInDays: logRetentionInDays
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  scope: rg
  params: {
    accountName: names.cosmos
    databaseName: cosmosDatabaseName
    containerName: cosmosContainerName
    location: location
    tags: tags
    throughputMode: cosmosThroughputMode
    autoscaleMaxThroughput: cosmosAutoscaleMaxThroughput
    appIdentityName: names.identity
    deployerPrincipalId: principalId
  }
  dependsOn: [
    identity
  ]
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  scope: rg
  params: {
    storageAccountName: names.storage
    appInsightsName: names.appInsights
    appIdentityName: names.identity
    deployerPrincipalId: principalId
    deployerPrincipalType: principalType
  }
  dependsOn: [
    identity
    storage
    monitoring
  ]
}

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  scope: rg
  params: {
    planName: names.plan
    name: names.functionApp
    location: location
    tags: tags
    identityName: names.identity
    storageAccountName: names.storage
    deploymentContainerName: names.deploymentContainer
    appInsightsName: names.appInsights
    cosmosAccountName: names.cosmos
    cosmosDatabaseName: cosmosDatabaseName
    cosmosContainerName: cosmosContainerName
    authTenantId: authTenantId
    authAudience: authAudience
    maximumInstanceCount: functionMaximumInstanceCount
    instanceMemoryMB: functionInstanceMemoryMB
  }
  // Existing resources are looked up by name; the roles must be in place before the host starts.
  dependsOn: [
    identity
    storage
    monitoring
    cosmos
    roles
  ]
}

// Outputs land in the azd environment (.azure/<env>/.env). Names and endpoints only: never a key or connection string.
@description('Azure region of the deployment.')
output AZURE_LOCATION string = location

@description('Tenant of the deployment.')
output AZURE_TENANT_ID string = tenant().tenantId

@description('Resource group holding every resource.')
output AZURE_RESOURCE_GROUP string = rg.name

@description('Name of the function app.')
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name

@description('Service root of the API: Microsoft Graph clients use it with version beta.')
output API_BASE_URL string = 'https://${functionApp.outputs.defaultHostName}/beta'

@description('Name of the Cosmos DB account.')
output COSMOS_ACCOUNT_NAME string = cosmos.outputs.accountName

@description('Cosmos DB document endpoint (same value as the COSMOS_ENDPOINT app setting).')
output COSMOS_ENDPOINT string = cosmos.outputs.endpoint

@description('Cosmos DB database name.')
output COSMOS_DATABASE string = cosmos.outputs.databaseName

@description('Cosmos DB container name.')
output COSMOS_CONTAINER string = cosmos.outputs.containerName

// Not named AZURE_CLIENT_ID: azd would put it in the local environment, where it would steer
// DefaultAzureCredential towards a managed identity that does not exist on a developer machine.
@description('Client id of the function app\'s managed identity (the AZURE_CLIENT_ID app setting).')
output API_IDENTITY_CLIENT_ID string = identity.outputs.clientId

@description('Tenant whose tokens the API accepts.')
output AUTH_TENANT_ID string = authTenantId

@description('Audience the API accepts.')
output AUTH_AUDIENCE string = authAudience
