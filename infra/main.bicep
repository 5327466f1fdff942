// Office client configuration assignments API (Microsoft Graph beta shape) on Azure Functions
// Flex Consumption + Cosmos DB for NoSQL. Deployed by `azd up` (see azure.yaml) at subscription scope.
targetScope = 'subscription'

@description('Name of the azd environment; names the resource group (rg-<name>) and seeds every resource name.')
@minLength(1)
@maxLength(64)
param environmentName string

// The regions that offer the Flex Consumption plan, as Microsoft's Flex quickstarts list them
// (Azure-Samples/functions-quickstart-typescript-azd, infra/main.bicep). `az functionapp list-flexconsumption-locations`
// prints the current list: add a region here when it appears there, unless it is an Early Updates Access Program
// (EUAP, canary) region such as eastus2euap, open only to subscriptions enrolled in that program.
@description('Azure region for every resource; one that offers the Functions Flex Consumption plan.')
@minLength(1)
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the deployer (azd sets AZURE_PRINCIPAL_ID). With deployerDataAccess it gets Cosmos DB data and blob roles, for local runs against the deployed database and for diagnostics. Empty: no deployer roles.')
param principalId string = ''

@description('Principal type of principalId (azd sets AZURE_PRINCIPAL_TYPE): User for a person, ServicePrincipal for CI.')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param principalType string = 'User'

@description('Grant principalId Cosmos DB Built-in Data Contributor and Storage Blob Data Owner. Default: on for a User (azd up from a developer machine), off for a ServicePrincipal or Group (a CI pipeline deploys; it never needs to read the data).')
param deployerDataAccess bool = principalType == 'User'

@description('Audience the API accepts in bearer tokens: the API app registration\'s App ID URI (api://...) and/or its client id, comma-separated. Becomes the AUTH_AUDIENCE app setting; checked here as lib/platform/config.ts checks it.')
@minLength(1)
param authAudience string

@description('Entra ID tenant whose tokens the API accepts (AUTH_TENANT_ID). Defaults to the tenant of the deployment.')
@minLength(1)
param authTenantId string = tenant().tenantId

// No default: a generated one (newGuid()) would change at every deployment and end every $skiptoken (@odata.nextLink)
// already handed out. azd keeps it in the environment: the preprovision hook (scripts/azd-preprovision.sh/.ps1) sets
// SKIPTOKEN_KEY once, main.parameters.json passes it, and `azd pipeline config` copies it to a CI secret (azure.yaml).
@description('Secret that signs paging tokens (SKIPTOKEN_KEY), at least 32 characters: every instance must share it, and it must stay the same from one deployment to the next (a new one ends the $skiptokens already handed out). azd keeps it in the environment as SKIPTOKEN_KEY.')
@secure()
@minLength(32)
param skipTokenKey string

@description('Cosmos DB database name (COSMOS_DATABASE). Must match DEFAULT_COSMOS_DATABASE in lib/platform/config.ts unless the setting is changed with it.')
@minLength(1)
@maxLength(255)
param cosmosDatabaseName string = 'officeConfiguration'

@description('Cosmos DB container name (COSMOS_CONTAINER). Must match DEFAULT_COSMOS_CONTAINER in lib/platform/config.ts unless the setting is changed with it.')
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

@description('Network isolation: a virtual network, Flex Consumption VNet integration, private endpoints and private DNS zones for Cosmos DB and the storage account (blob), and public network access off on both.')
param vnetEnabled bool = false

@description('E-mail address the alerts are sent to (the action group\'s receiver). Empty: the alerts still fire in Azure Monitor, but notify no one.')
param alertEmail string = ''

@description('Alert when the API answers at least this many server errors (HTTP 5xx) in 5 minutes (a log search alert on Application Insights requests).')
@minValue(1)
param alertHttp5xxPer5Minutes int = 5

@description('Alert when Cosmos DB throttles (HTTP 429) at least this many requests in 5 minutes.')
@minValue(1)
param alertThrottledRequestsPer5Minutes int = 10

@description('Alert when Cosmos DB consumes more than this many request units in one hour.')
@minValue(1)
param alertRequestUnitsPerHour int = 500000

// AUTH_AUDIENCE as lib/platform/config.ts reads it: a comma-separated list in which every entry, trimmed, is a client id (a
// GUID) or an absolute URI (what URL.canParse accepts: a scheme, then ':'; http(s)/ws(s)/ftp also need a host). A bad
// value fails the deployment when ARM validates it, before any resource is created, instead of stopping the app at
// its first start. (Stricter than URL.canParse only for URIs with spaces, which no App ID URI has.)
func isGuid(value string) bool =>
  length(value) == 36 && map(split(value, '-'), part => length(part)) == [8, 4, 4, 4, 12] && empty(filter(
    range(0, length(value)),
    i => !contains('0123456789abcdefABCDEF-', substring(value, i, 1))
  ))

func isUriScheme(scheme string) bool =>
  !empty(scheme) && contains('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', take(scheme, 1)) && empty(filter(
    range(0, length(scheme)),
    i => !contains('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-', substring(scheme, i, 1))
  ))

func needsHost(scheme string) bool => contains(['http', 'https', 'ws', 'wss', 'ftp'], toLower(scheme))

func isAbsoluteUri(value string) bool =>
  contains(value, ':') && !contains(value, ' ') && isUriScheme(first(split(value, ':'))) && (!needsHost(first(split(
    value,
    ':'
  ))) || !empty(replace(skip(value, length(first(split(value, ':'))) + 1), '/', '')))

var authAudienceEntries = map(split(authAudience, ','), entry => trim(entry))
var invalidAuthAudiences = filter(authAudienceEntries, entry => !isGuid(entry) && !isAbsoluteUri(entry))
// ARM has no fail(): reading a missing property whose name is the message fails the deployment and shows the message.
var checkedAuthAudience = empty(invalidAuthAudiences)
  ? authAudience
  : { valid: authAudience }['AUTH_AUDIENCE must be App ID URIs (api://...) and/or client ids (GUIDs) separated by commas; not valid: "${join(invalidAuthAudiences, '", "')}"']

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
  vnet: 'vnet-${resourceToken}'
}

// Who gets the deployer's data roles: nobody unless deployerDataAccess (see the parameter).
var deployerPrincipalId = deployerDataAccess ? principalId : ''

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
    privateNetworkOnly: vnetEnabled
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
    deployerPrincipalId: deployerPrincipalId
    privateNetworkOnly: vnetEnabled
  }
  dependsOn: [
    identity
  ]
}

module network 'modules/network.bicep' = if (vnetEnabled) {
  name: 'network'
  scope: rg
  params: {
    name: names.vnet
    location: location
    tags: tags
    storageAccountName: names.storage
    cosmosAccountName: names.cosmos
  }
  dependsOn: [
    storage
    cosmos
  ]
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  scope: rg
  params: {
    storageAccountName: names.storage
    appInsightsName: names.appInsights
    appIdentityName: names.identity
    deployerPrincipalId: deployerPrincipalId
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
    authAudience: checkedAuthAudience
    skipTokenKey: skipTokenKey
    virtualNetworkSubnetId: vnetEnabled ? network!.outputs.appSubnetId : ''
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

module diagnostics 'modules/diagnostics.bicep' = {
  name: 'diagnostics'
  scope: rg
  params: {
    logAnalyticsName: names.logAnalytics
    cosmosAccountName: names.cosmos
    storageAccountName: names.storage
    functionAppName: names.functionApp
  }
  dependsOn: [
    monitoring
    cosmos
    storage
    functionApp
  ]
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    namePrefix: resourceToken
    location: location
    tags: tags
    alertEmail: alertEmail
    appInsightsName: names.appInsights
    cosmosAccountName: names.cosmos
    http5xxThreshold: alertHttp5xxPer5Minutes
    throttledRequestsThreshold: alertThrottledRequestsPer5Minutes
    requestUnitsPerHourThreshold: alertRequestUnitsPerHour
  }
  dependsOn: [
    monitoring
    cosmos
  ]
}

module workbook 'modules/workbook.bicep' = {
  name: 'workbook'
  scope: rg
  params: {
    location: location
    tags: tags
    appInsightsName: names.appInsights
    displayName: 'Office client configuration assignments API (${environmentName})'
  }
  dependsOn: [
    monitoring
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
output AUTH_AUDIENCE string = checkedAuthAudience
