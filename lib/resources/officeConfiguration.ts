/**
 * The `officeConfiguration` singleton: the tenant's check-in statuses and summary. This service records no
 * check-ins (Office clients report them to Microsoft's service, not to this one), so the collection is empty and
 * every count zero. Nothing is read from storage.
 */
import { EMPTY_CHECKIN_SUMMARY, officeConfigurationContext } from '../graph/odata.js';
import { parseEntityOptions } from '../graph/queryOptions.js';
import { OFFICE_CONFIGURATION_TYPE } from '../graph/schema.js';
import type { Operation } from '../http/pipeline.js';

export const getOfficeConfiguration: Operation = (call) => {
    // Only `$format` means something here; `$select` on assignment properties would be a 400, as elsewhere.
    try {
        parseEntityOptions(new URLSearchParams([...call.query].filter(([name]) => !/^\$?select$/i.test(name))));
    } catch (error) {
        return Promise.reject(error as Error);
    }
    return Promise.resolve({
        status: 200,
        body: {
            '@odata.context': officeConfigurationContext(call.root),
            '@odata.type': `#${OFFICE_CONFIGURATION_TYPE}`,
            tenantCheckinStatuses: [],
            tenantUserCheckinSummary: { ...EMPTY_CHECKIN_SUMMARY },
        },
    });
};
