/** The create every part of the bench sends: a group target, so that validation checks a GUID as well. */
export const PAYLOAD_TARGET = {
    '@odata.type': '#microsoft.graph.officeConfigurationGroupAssignmentTarget',
    groupId: '0f8fad5b-d9cb-469f-a165-70867728950e',
};

export const PAYLOAD = JSON.stringify({
    '@odata.type': '#microsoft.graph.officeClientConfigurationAssignment',
    target: PAYLOAD_TARGET,
});
