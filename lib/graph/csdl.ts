/**
 * The service's `$metadata`: Graph's own CSDL for the types this service exposes, then the service's own schema.
 *
 * - Schema `microsoft.graph`: every definition Graph publishes is copied verbatim from Graph's beta metadata
 *   (microsoftgraph/msgraph-metadata, beta_metadata.xml of 2021-07-13), so a client generated from it sees Graph's
 *   types; types the served ones reference (the check-in statuses) come along so that the document resolves. After
 *   Graph's two actions come the two `delta` functions the service answers (`.../clientConfigurations/delta` and
 *   `.../assignments/delta`, also `microsoft.graph.delta()`): the 2021 excerpt has none for these collections, so
 *   they are written the way Graph declares each of its own (`<Function Name="delta" IsBound="true">`, a collection
 *   bound and returned, no IsComposable, as in Graph's v1.0 CSDL), in Graph's namespace because the qualified URL
 *   names `microsoft.graph.delta`. They add functions; no Graph type changes.
 * - Last come Graph's `subscription` entity type and its `subscriptions` entity set (change notifications,
 *   `/subscriptions`), which the 2021 excerpt leaves out. They are Graph's own, so in Graph's namespace, and copied
 *   verbatim from Graph's published CSDL as it stands today (msgraph-metadata, clean_v10_metadata/cleanMetadata.xml
 *   of 2026-08-04; the same lines are in schemas/v1.0-Prod.csdl): exactly the properties a subscription response
 *   carries (lib/resources/subscriptions `subscriptionResource`). The 2021 beta declaration is not used: it lacks
 *   `notificationUrlAppId`, which responses carry, and so would not describe them; its entity set line is the same.
 * - Schema `officeConfigurationService` (AUDIT_NAMESPACE of lib/resources/auditEvents): what the service adds and
 *   Graph does not have: the audit event, shaped as Intune's `microsoft.graph.auditEvent` (beta), with its complex
 *   types, and the `auditEvents` collection under `/officeConfiguration`.
 *
 * How `auditEvents` hangs off `/officeConfiguration` without touching Graph's `officeConfiguration` type: as the
 * contained navigation property of a type derived from it, `officeConfigurationService.officeConfiguration`, while
 * the singleton keeps Graph's declaration (`microsoft.graph.officeConfiguration`). The other ways do worse:
 * - adding the property to Graph's type edits Graph's verbatim definition;
 * - an entity set is addressed at the service root (`/auditEvents`), not under the singleton, and a document has
 *   exactly one entity container, Graph's, so the service's namespace cannot have a container of its own;
 * - retyping the singleton to the derived type breaks `GET /officeConfiguration`, which says
 *   `#microsoft.graph.officeConfiguration` as Graph does: a strict OData reader (Microsoft.OData.Core) refuses a
 *   payload of a base type where the metadata declares a derived one.
 * The price, measured with Microsoft.OData.Core 8.4.4: OData addresses a derived type's navigation property through
 * the type cast, `/officeConfiguration/officeConfigurationService.officeConfiguration/auditEvents` (and its context
 * URL is `$metadata#officeConfiguration/officeConfigurationService.officeConfiguration/auditEvents`); the short
 * `/officeConfiguration/auditEvents` the service answers is its own shorthand, which such a reader does not resolve.
 * Generated clients are unaffected: the OpenAPI description (lib/resources/openapi) describes the short path, and
 * Kiota generates from it. The document is valid CSDL 4.0 (CsdlReader parses it and `Validate` finds nothing).
 *
 * Kept in code rather than a file so that the build output holds it.
 */
export const CSDL_XML = `<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
  <edmx:DataServices>
    <Schema Namespace="microsoft.graph" Alias="graph" xmlns="http://docs.oasis-open.org/odata/ns/edm">
      <EntityType Name="entity" Abstract="true">
        <Key>
          <PropertyRef Name="id" />
        </Key>
        <Property Name="id" Type="Edm.String" Nullable="false" />
      </EntityType>
      <ComplexType Name="officeClientCheckinStatus">
        <Property Name="appliedPolicies" Type="Collection(Edm.String)" />
        <Property Name="checkinDateTime" Type="Edm.DateTimeOffset" Nullable="false" />
        <Property Name="deviceName" Type="Edm.String" />
        <Property Name="devicePlatform" Type="Edm.String" />
        <Property Name="devicePlatformVersion" Type="Edm.String" />
        <Property Name="errorMessage" Type="Edm.String" />
        <Property Name="userId" Type="Edm.String" Nullable="false" />
        <Property Name="userPrincipalName" Type="Edm.String" />
        <Property Name="wasSuccessful" Type="Edm.Boolean" Nullable="false" />
      </ComplexType>
      <ComplexType Name="officeConfigurationAssignmentTarget" Abstract="true" />
      <ComplexType Name="officeConfigurationGroupAssignmentTarget" BaseType="graph.officeConfigurationAssignmentTarget">
        <Property Name="groupId" Type="Edm.String" />
      </ComplexType>
      <ComplexType Name="officeUserCheckinSummary">
        <Property Name="failedUserCount" Type="Edm.Int32" Nullable="false" />
        <Property Name="succeededUserCount" Type="Edm.Int32" Nullable="false" />
      </ComplexType>
      <EntityType Name="officeClientConfiguration" BaseType="graph.entity" Abstract="true">
        <Property Name="checkinStatuses" Type="Collection(graph.officeClientCheckinStatus)" />
        <Property Name="description" Type="Edm.String" />
        <Property Name="displayName" Type="Edm.String" />
        <Property Name="policyPayload" Type="Edm.Stream" />
        <Property Name="priority" Type="Edm.Int32" Nullable="false" />
        <Property Name="userCheckinSummary" Type="graph.officeUserCheckinSummary" />
        <Property Name="userPreferencePayload" Type="Edm.Stream" />
        <NavigationProperty Name="assignments" Type="Collection(graph.officeClientConfigurationAssignment)" ContainsTarget="true" />
      </EntityType>
      <EntityType Name="officeClientConfigurationAssignment" BaseType="graph.entity">
        <Property Name="target" Type="graph.officeConfigurationAssignmentTarget" />
      </EntityType>
      <EntityType Name="officeConfiguration">
        <Property Name="tenantCheckinStatuses" Type="Collection(graph.officeClientCheckinStatus)" />
        <Property Name="tenantUserCheckinSummary" Type="graph.officeUserCheckinSummary" />
        <NavigationProperty Name="clientConfigurations" Type="Collection(graph.officeClientConfiguration)" ContainsTarget="true" />
      </EntityType>
      <EntityType Name="windowsOfficeClientConfiguration" BaseType="graph.officeClientConfiguration" />
      <EntityType Name="windowsOfficeClientSecurityConfiguration" BaseType="graph.officeClientConfiguration" />
      <Action Name="assign" IsBound="true">
        <Parameter Name="bindingParameter" Type="graph.officeClientConfiguration" />
        <Parameter Name="officeConfigurationAssignments" Type="Collection(graph.officeClientConfigurationAssignment)" />
        <ReturnType Type="Collection(graph.officeClientConfigurationAssignment)" />
      </Action>
      <Action Name="updatePriorities" IsBound="true">
        <Parameter Name="bindingParameter" Type="Collection(graph.officeClientConfiguration)" />
        <Parameter Name="officeConfigurationPolicyIds" Type="Collection(Edm.String)" Unicode="false" />
        <Parameter Name="officeConfigurationPriorities" Type="Collection(Edm.Int32)" Nullable="false" />
      </Action>
      <Function Name="delta" IsBound="true">
        <Parameter Name="bindingParameter" Type="Collection(graph.officeClientConfiguration)" />
        <ReturnType Type="Collection(graph.officeClientConfiguration)" />
      </Function>
      <Function Name="delta" IsBound="true">
        <Parameter Name="bindingParameter" Type="Collection(graph.officeClientConfigurationAssignment)" />
        <ReturnType Type="Collection(graph.officeClientConfigurationAssignment)" />
      </Function>
      <EntityType Name="subscription" BaseType="graph.entity">
        <Property Name="applicationId" Type="Edm.String" />
        <Property Name="changeType" Type="Edm.String" Nullable="false" />
        <Property Name="clientState" Type="Edm.String" />
        <Property Name="creatorId" Type="Edm.String" />
        <Property Name="encryptionCertificate" Type="Edm.String" />
        <Property Name="encryptionCertificateId" Type="Edm.String" />
        <Property Name="expirationDateTime" Type="Edm.DateTimeOffset" Nullable="false" />
        <Property Name="includeResourceData" Type="Edm.Boolean" />
        <Property Name="latestSupportedTlsVersion" Type="Edm.String" />
        <Property Name="lifecycleNotificationUrl" Type="Edm.String" />
        <Property Name="notificationQueryOptions" Type="Edm.String" />
        <Property Name="notificationUrl" Type="Edm.String" Nullable="false" />
        <Property Name="notificationUrlAppId" Type="Edm.String" />
        <Property Name="resource" Type="Edm.String" Nullable="false" />
      </EntityType>
      <EntityContainer Name="GraphService">
        <Singleton Name="officeConfiguration" Type="microsoft.graph.officeConfiguration" />
        <EntitySet Name="subscriptions" EntityType="microsoft.graph.subscription" />
      </EntityContainer>
    </Schema>
    <!-- This service's own types, not Microsoft Graph's: the audit trail, and the officeConfiguration that has it. -->
    <Schema Namespace="officeConfigurationService" xmlns="http://docs.oasis-open.org/odata/ns/edm">
      <ComplexType Name="auditActor">
        <Property Name="applicationDisplayName" Type="Edm.String" />
        <Property Name="applicationId" Type="Edm.String" />
        <Property Name="auditActorType" Type="Edm.String" />
        <Property Name="ipAddress" Type="Edm.String" />
        <Property Name="servicePrincipalName" Type="Edm.String" />
        <Property Name="type" Type="Edm.String" />
        <Property Name="userId" Type="Edm.String" />
        <Property Name="userPermissions" Type="Collection(Edm.String)" />
        <Property Name="userPrincipalName" Type="Edm.String" />
      </ComplexType>
      <ComplexType Name="auditProperty">
        <Property Name="displayName" Type="Edm.String" />
        <Property Name="newValue" Type="Edm.String" />
        <Property Name="oldValue" Type="Edm.String" />
      </ComplexType>
      <ComplexType Name="auditResource">
        <Property Name="auditResourceType" Type="Edm.String" />
        <Property Name="displayName" Type="Edm.String" />
        <Property Name="modifiedProperties" Type="Collection(officeConfigurationService.auditProperty)" />
        <Property Name="resourceId" Type="Edm.String" />
        <Property Name="type" Type="Edm.String" />
      </ComplexType>
      <EntityType Name="auditEvent" BaseType="microsoft.graph.entity">
        <Property Name="activity" Type="Edm.String" />
        <Property Name="activityDateTime" Type="Edm.DateTimeOffset" Nullable="false" />
        <Property Name="activityOperationType" Type="Edm.String" />
        <Property Name="activityResult" Type="Edm.String" />
        <Property Name="activityType" Type="Edm.String" />
        <Property Name="actor" Type="officeConfigurationService.auditActor" />
        <Property Name="category" Type="Edm.String" />
        <Property Name="componentName" Type="Edm.String" />
        <Property Name="correlationId" Type="Edm.Guid" Nullable="false" />
        <Property Name="displayName" Type="Edm.String" />
        <Property Name="resources" Type="Collection(officeConfigurationService.auditResource)" />
      </EntityType>
      <EntityType Name="officeConfiguration" BaseType="microsoft.graph.officeConfiguration">
        <NavigationProperty Name="auditEvents" Type="Collection(officeConfigurationService.auditEvent)" ContainsTarget="true" />
      </EntityType>
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>
`;
