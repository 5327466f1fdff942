// User-assigned managed identity the function app runs as: it reads and writes Cosmos DB,
// reads its deployment package and host storage, and sends telemetry to Application Insights.

@description('Name of the user-assigned managed identity.')
@minLength(3)
@maxLength(128)
param name string

@description('Azure region of the identity.')
param location string

@description('Tags applied to the identity.')
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

@description('Resource id of the identity.')
output id string = identity.id

@description('Object (principal) id of the identity, for role assignments.')
output principalId string = identity.properties.principalId

@description('Client id of the identity (AZURE_CLIENT_ID for DefaultAzureCredential).')
output clientId string = identity.properties.clientId
