// Cosmos DB for NoSQL: account (Entra ID only), the database and the assignments container.
// Entra ID tokens cannot create databases or containers through the data plane, so both are
// created here and never at application start-up.

@description('Name of the Cosmos DB account (3-44 lowercase letters, digits and hyphens).')
@minLength(3)
@maxLength(44)
param accountName string

@description('Name of the SQL database (the app reads it from COSMOS_DATABASE).')
@minLength(1)
@maxLength(255)
param databaseName string

@description('Name of the container holding the assignments (the app reads it from COSMOS_CONTAINER).')
@minLength(1)
@maxLength(255)
param containerName string

@description('Azure region of the account (single region).')
param location string

@description('Tags applied to the account, database and container.')
param tags object

@description('serverless: pay per request (default, no throughput to manage). autoscale: provisioned autoscale throughput on the container. Moving an existing account from serverless to provisioned is a one-way migration done outside this template.')
@allowed([
  'serverless'
  'autoscale'
])
param throughputMode string

@description('Maximum autoscale RU/s of the container; used only when throughputMode is autoscale (scales between 10% and 100% of it).')
@minValue(1000)
@maxValue(1000000)
param autoscaleMaxThroughput int

@description('Name of the existing user-assigned identity of the function app (gets Cosmos DB Built-in Data Contributor).')
@minLength(3)
param appIdentityName string

@description('Principal id of the deployer who also gets Cosmos DB Built-in Data Contributor, for local runs and diagnostics. Empty: none (main.bicep passes it only when deployer data access is on).')
param deployerPrincipalId string

@description('true: reachable only through the private endpoint of the virtual network (public network access off).')
param privateNetworkOnly bool

// The container's partition key, default TTL and indexing policy, in the one file that the app also creates the
// container from when it connects with a key (the emulator; lib/store/cosmosClient.ts): both containers behave alike.
var containerDefinition = loadJsonContent('../../lib/store/cosmos-container.json')

// Cosmos DB Built-in Data Contributor (data plane: read, write, query items; no management operations).
var dataContributorRoleDefinitionName = '00000000-0000-0000-0000-000000000002'

resource appIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: appIdentityName
}

resource account 'Microsoft.DocumentDB/databaseAccounts@2026-03-15' = {
  name: accountName
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    // Strong: a read on any instance of the app sees every write acknowledged on any other (each instance has its
    // own client, and Session would give read-your-writes within one client only). One region, so writes cost no
    // more; reads cost twice a Session read's request units (docs/design.md, "Consistency").
    consistencyPolicy: {
      defaultConsistencyLevel: 'Strong'
    }
    // The sweeper's calls (lib/jobs/sweeper.ts) ask for low priority: when the container is short of request units,
    // they are throttled before the API's own calls.
    enablePriorityBasedExecution: true
    defaultPriorityLevel: 'High'
    capabilities: throughputMode == 'serverless' ? [{ name: 'EnableServerless' }] : []
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: privateNetworkOnly ? 'Disabled' : 'Enabled'
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2026-03-15' = {
  parent: account
  name: databaseName
  tags: tags
  properties: {
    resource: {
      id: databaseName
    }
  }
}

resource container 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2026-03-15' = {
  parent: database
  name: containerName
  tags: tags
  properties: {
    resource: {
      id: containerName
      // Each property of lib/store/cosmos-container.json by name: one added there is passed on here too
      // (test/infra/containerDefinition.test.ts holds the compiled container to the file).
      // The partition key is part of the API contract (lib/store/assignmentStore.ts PARTITION_KEY_PATH): every route
      // stays inside one configuration's logical partition. It cannot change once the container exists.
      partitionKey: containerDefinition.partitionKey
      // -1: no document expires unless it says so; the idempotency-key records set their own `ttl` (lib/store/idempotency.ts).
      defaultTtl: containerDefinition.defaultTtl
      // Index only what the code filters or sorts on. The default policy indexes every path of every
      // document (`/*`), and each create, replace or delete pays request units to maintain those index
      // terms; the `target` object and anything added later would be indexed for nothing, as no query
      // filters on them. Excluding `/*` and including only the queried paths lowers the write RU charge
      // per document and the index storage, at no cost to the queries the service runs:
      //   - `WHERE c.configurationId = @configurationId` (every query names its partition),
      //   - `AND c.id != @setVersion` (the list and count queries leave out the per-configuration set version);
      //     `id` is listed here to make that use explicit. Paging follows the partition's own order (continuation
      //     tokens), so no ORDER BY, and no other path, needs an index.
      //   - Client configurations live in the same container, in the tenant partition `/officeConfiguration`
      //     (docs/design.md): a page of them is `AND ARRAY_CONTAINS(@ids, c.id)` (the ids of one page of the
      //     priority order document), on `id` again. Priorities are positions in that one document, never a
      //     property that is queried or sorted on, so they need no index either; nor do `kind`, `target` or the
      //     payloads (base64 of up to 1 MiB, which would be costly to index for nothing).
      //   - Deleting a configuration lists its partition's ids (`WHERE c.configurationId = @configurationId`).
      // No unique key: every uniqueness the service relies on is the id's within a partition (assignment and
      // configuration GUIDs, the set, order and idempotency-key documents), which Cosmos DB enforces already.
      // Point reads (id + partition key) never use the index. A future query on another property needs
      // that path added to lib/store/cosmos-container.json first, or it scans the partition (more RU).
      // See https://learn.microsoft.com/azure/cosmos-db/index-policy and
      // https://learn.microsoft.com/azure/cosmos-db/optimize-cost-reads-writes ("indexing policy").
      indexingPolicy: containerDefinition.indexingPolicy
    }
    options: throughputMode == 'autoscale'
      ? {
          autoscaleSettings: {
            maxThroughput: autoscaleMaxThroughput
          }
        }
      : {}
  }
}

resource dataContributor 'Microsoft.DocumentDB/databaseAccounts/sqlRoleDefinitions@2026-03-15' existing = {
  parent: account
  name: dataContributorRoleDefinitionName
}

// Data-plane RBAC goes through sqlRoleAssignments (not Microsoft.Authorization/roleAssignments). They start after the
// container, as Microsoft's quickstarts order them (rbac.bicep): an assignment written while the account is still
// creating its database and container can fail with a conflict.
resource appDataContributor 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2026-03-15' = {
  parent: account
  name: guid(account.id, appIdentity.id, dataContributor.id)
  properties: {
    roleDefinitionId: dataContributor.id
    principalId: appIdentity.properties.principalId
    scope: account.id
  }
  dependsOn: [
    container
  ]
}

resource deployerDataContributor 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2026-03-15' = if (!empty(deployerPrincipalId)) {
  parent: account
  name: guid(account.id, deployerPrincipalId, dataContributor.id)
  properties: {
    roleDefinitionId: dataContributor.id
    principalId: deployerPrincipalId
    scope: account.id
  }
  dependsOn: [
    container
  ]
}

@description('Name of the Cosmos DB account.')
output accountName string = account.name

@description('Document endpoint of the account (COSMOS_ENDPOINT).')
output endpoint string = account.properties.documentEndpoint

@description('Name of the SQL database.')
output databaseName string = database.name

@description('Name of the assignments container.')
output containerName string = container.name
