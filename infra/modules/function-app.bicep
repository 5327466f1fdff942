// Flex Consumption plan + Linux function app (Node.js 22) running as the user-assigned identity.
// Every connection is identity-based: host storage, deployment package, Cosmos DB, Application Insights.

@description('Name of the Flex Consumption (FC1) plan.')
@minLength(1)
@maxLength(60)
param planName string

@description('Name of the function app (also its default host name prefix).')
@minLength(2)
@maxLength(60)
param name string

@description('Azure region of the plan and the app (must offer Flex Consumption).')
param location string

@description('Tags applied to the plan and the app; the app also gets azd-service-name.')
param tags object

@description('Name of the existing user-assigned identity the app runs as.')
@minLength(3)
param identityName string

@description('Name of the existing storage account for the deployment package and AzureWebJobsStorage (its blob service).')
@minLength(3)
@maxLength(24)
param storageAccountName string

@description('Name of the existing blob container holding the deployment package.')
@minLength(3)
param deploymentContainerName string

@description('Name of the existing Application Insights component.')
@minLength(1)
param appInsightsName string

@description('Name of the existing Cosmos DB account.')
@minLength(3)
param cosmosAccountName string

@description('Cosmos DB database name (COSMOS_DATABASE).')
@minLength(1)
param cosmosDatabaseName string

@description('Cosmos DB container name (COSMOS_CONTAINER).')
@minLength(1)
param cosmosContainerName string

@description('Entra ID tenant that issues the bearer tokens the API accepts (AUTH_TENANT_ID).')
@minLength(1)
param authTenantId string

@description('Audience the API accepts in bearer tokens: its App ID URI or client id (AUTH_AUDIENCE).')
@minLength(1)
param authAudience string

@description('Secret that signs paging tokens (SKIPTOKEN_KEY).')
@secure()
param skipTokenKey string

@description('Resource id of the subnet (delegated to Microsoft.App/environments) the app integrates with. Empty: no virtual network.')
param virtualNetworkSubnetId string

@description('Upper bound of instances the app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory of each instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: identityName
}

resource storage 'Microsoft.Storage/storageAccounts@2026-06-01' existing = {
  name: storageAccountName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2026-03-15' existing = {
  name: cosmosAccountName
}

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true // Linux
  }
}

resource functionApp 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Outbound traffic through the virtual network (vnetEnabled): Cosmos DB and storage are then private endpoints.
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    // Flex Consumption rejects or ignores many classic site properties (ftpsState, alwaysOn, linuxFxVersion, ...):
    // infra/flex-consumption-deprecations.json lists them and test/infra fails when any is set. FTP is off through
    // the ftp publishing-credentials policy below, not through ftpsState. minTlsVersion is not on that list.
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }

  // The names the app reads (lib/platform/config.ts AZURE_APP_SETTINGS) plus the host's own settings.
  // No key to any service: each is reached with the identity (AZURE_CLIENT_ID). The one secret is the app's own
  // paging-token signing key, kept in the azd environment and never output.
  resource appSettings 'config' = {
    name: 'appsettings'
    properties: {
      // Host storage by service URI, blob only: what the host needs for HTTP and timer triggers (keys, timer locks),
      // as infra/host-storage.json derives it; the identity has Storage Blob Data Owner and, with vnetEnabled, there is
      // a blob private endpoint only. AzureWebJobsStorage__accountName would make the host derive the queue and table
      // endpoints too, and write diagnostic events to a table it may not reach (403: azure-functions-host#10995).
      AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
      AzureWebJobsStorage__credential: 'managedidentity'
      AzureWebJobsStorage__clientId: identity.properties.clientId
      APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'
      COSMOS_ENDPOINT: cosmos.properties.documentEndpoint
      COSMOS_DATABASE: cosmosDatabaseName
      COSMOS_CONTAINER: cosmosContainerName
      AZURE_CLIENT_ID: identity.properties.clientId
      AUTH_TENANT_ID: authTenantId
      AUTH_AUDIENCE: authAudience
      SKIPTOKEN_KEY: skipTokenKey
    }
  }

  // Deployments (azd, func) authenticate with Entra ID; basic (publishing profile) auth is off.
  resource scmBasicAuth 'basicPublishingCredentialsPolicies' = {
    name: 'scm'
    properties: {
      allow: false
    }
  }

  resource ftpBasicAuth 'basicPublishingCredentialsPolicies' = {
    name: 'ftp'
    properties: {
      allow: false
    }
  }
}

@description('Name of the function app.')
output name string = functionApp.name

@description('Default host name of the function app.')
output defaultHostName string = functionApp.properties.defaultHostName
