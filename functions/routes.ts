/**
 * The route table: every function of the app, read both by `app.http(...)` (functions/index.ts) and by the local
 * host (lib/localHost.ts), so the two can never serve different APIs.
 */
import {
    assign,
    createAssignment,
    deleteAssignment,
    getAssignment,
    listAssignments,
    updateAssignment,
} from '../lib/assignments.js';
import { type Route, unknownSegment } from '../lib/http.js';

const configuration = 'officeConfiguration/clientConfigurations/{configurationId}';

const resourceRoutes: Route[] = [
    {
        name: 'officeClientConfigurationAssignments',
        template: `${configuration}/assignments`,
        operations: { GET: listAssignments, POST: createAssignment },
    },
    {
        name: 'officeClientConfigurationAssignment',
        template: `${configuration}/assignments/{assignmentId}`,
        operations: { GET: getAssignment, PATCH: updateAssignment, DELETE: deleteAssignment },
    },
    {
        name: 'officeClientConfigurationAssign',
        template: `${configuration}/assign`,
        operations: { POST: assign },
    },
    {
        name: 'officeClientConfigurationAssignQualified',
        template: `${configuration}/microsoft.graph.assign`,
        operations: { POST: assign },
    },
];

/** Everything else under /beta: a Graph error instead of the host's bare 404. */
const fallbackRoute: Route = {
    name: 'unknownSegment',
    template: '{*path}',
    operations: unknownSegment(resourceRoutes.map((r) => r.template)),
};

export const routes: readonly Route[] = [...resourceRoutes, fallbackRoute];
