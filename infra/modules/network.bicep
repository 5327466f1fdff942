// Network isolation (vnetEnabled): a virtual network with one subnet for the function app's outbound traffic (Flex
// Consumption VNet integration) and one for private endpoints, private endpoints for Cosmos DB and for the storage
// account's blob service, and the private DNS zones that make their public host names resolve to those endpoints
// inside the network. Modelled on Microsoft's Flex Consumption quickstarts (functions-quickstart-typescript-azd and its
// -cosmosdb sibling: infra/app/vnet.bicep, storage-PrivateEndpoint.bicep, db-PrivateEndpoint.bicep).

@description('Name of the virtual network.')
@minLength(2)
@maxLength(64)
param name string

@description('Azure region of the network and the private endpoints.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Name of the existing storage account (host storage and deployment package) reached through a blob private endpoint.')
@minLength(3)
@maxLength(24)
param storageAccountName string

@description('Name of the existing Cosmos DB account reached through a private endpoint (group Sql).')
@minLength(3)
@maxLength(44)
param cosmosAccountName string

// Flex Consumption integrates with a subnet delegated to Microsoft.App/environments (which is why the Microsoft.App
// resource provider must be registered on the subscription).
var appSubnetName = 'app'
var privateEndpointSubnetName = 'private-endpoints'

// The Functions host of this app (HTTP triggers and two timer triggers) uses blobs only (keys, timer locks), and the
// deployment package is a blob too: no queue, table or file endpoint is needed. infra/host-storage.json derives this
// from the triggers the app registers; test/infra/host-storage.test.ts checks these endpoints against it.
var privateLinkZones = {
  blob: 'privatelink.blob.${environment().suffixes.storage}'
  cosmos: 'privatelink.documents.azure.com'
}

resource storage 'Microsoft.Storage/storageAccounts@2026-06-01' existing = {
  name: storageAccountName
}

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2026-03-15' existing = {
  name: cosmosAccountName
}

resource vnet 'Microsoft.Network/virtualNetworks@2025-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        '10.0.0.0/16'
      ]
    }
    subnets: [
      {
        name: appSubnetName
        properties: {
          addressPrefix: '10.0.1.0/24'
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: privateEndpointSubnetName
        properties: {
          addressPrefix: '10.0.2.0/24'
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }

  resource appSubnet 'subnets' existing = {
    name: appSubnetName
  }

  resource privateEndpointSubnet 'subnets' existing = {
    name: privateEndpointSubnetName
  }
}

resource blobZone 'Microsoft.Network/privateDnsZones@2024-06-01' = {
  name: privateLinkZones.blob
  location: 'global'
  tags: tags

  resource link 'virtualNetworkLinks' = {
    name: '${name}-blob'
    location: 'global'
    tags: tags
    properties: {
      virtualNetwork: {
        id: vnet.id
      }
      registrationEnabled: false
    }
  }
}

resource cosmosZone 'Microsoft.Network/privateDnsZones@2024-06-01' = {
  name: privateLinkZones.cosmos
  location: 'global'
  tags: tags

  resource link 'virtualNetworkLinks' = {
    name: '${name}-cosmos'
    location: 'global'
    tags: tags
    properties: {
      virtualNetwork: {
        id: vnet.id
      }
      registrationEnabled: false
    }
  }
}

resource blobEndpoint 'Microsoft.Network/privateEndpoints@2025-05-01' = {
  name: 'pe-blob-${storage.name}'
  location: location
  tags: tags
  properties: {
    subnet: {
      id: vnet::privateEndpointSubnet.id
    }
    privateLinkServiceConnections: [
      {
        name: 'blob'
        properties: {
          privateLinkServiceId: storage.id
          groupIds: [
            'blob'
          ]
        }
      }
    ]
  }

  resource dns 'privateDnsZoneGroups' = {
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: 'blob'
          properties: {
            privateDnsZoneId: blobZone.id
          }
        }
      ]
    }
  }
}

resource cosmosEndpoint 'Microsoft.Network/privateEndpoints@2025-05-01' = {
  name: 'pe-cosmos-${cosmos.name}'
  location: location
  tags: tags
  properties: {
    subnet: {
      id: vnet::privateEndpointSubnet.id
    }
    privateLinkServiceConnections: [
      {
        name: 'cosmos'
        properties: {
          privateLinkServiceId: cosmos.id
          groupIds: [
            'Sql'
          ]
        }
      }
    ]
  }

  resource dns 'privateDnsZoneGroups' = {
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: 'cosmos'
          properties: {
            privateDnsZoneId: cosmosZone.id
          }
        }
      ]
    }
  }
}

@description('Resource id of the subnet the function app integrates with (virtualNetworkSubnetId).')
output appSubnetId string = vnet::appSubnet.id
