/**
 * The service's `$metadata`: Graph's own CSDL for the types this service exposes. Every definition inside the Schema
 * is copied verbatim from Graph's beta metadata (microsoftgraph/msgraph-metadata, beta_metadata.xml of 2021-07-13),
 * so a client generated from it sees Graph's types; types the served ones reference (the check-in statuses) come
 * along so that the document resolves. Kept in code rather than a file so that the build output holds it.
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
      <EntityContainer Name="GraphService">
        <Singleton Name="officeConfiguration" Type="microsoft.graph.officeConfiguration" />
      </EntityContainer>
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>
`;
