/**
 * The `officeConfiguration` singleton: the tenant's check-in statuses and summary. This service records no
 * check-ins (Office clients report them to Microsoft's service, not to this one), so the collection is empty and
 * every count zero. Nothing is read from storage.
 */
import { EMPTY_CHECKIN_SUMMARY, officeConfigurationContext } from '../graph/odata.js';
import { parseOfficeConfigurationOptions } from '../graph/queryOptions.js';
import { OFFICE_CONFIGURATION_TYPE } from '../graph/schema.js';
import type { Operation } from '../http/pipeline.js';

/** The singleton as Graph writes it: its type, then the selected properties (all of them without `$select`). */
function officeConfigurationResource(select?: readonly string[]): Record<string, unknown> {
    const wanted = (name: string) => !select || select.includes(name);
    return {
        '@odata.type': `#${OFFICE_CONFIGURATION_TYPE}`,
        ...(wanted('tenantCheckinStatuses') ? { tenantCheckinStatuses: [] } : {}),
        ...(wanted('tenantUserCheckinSummary') ? { tenantUserCheckinSummary: { ...EMPTY_CHECKIN_SUMMARY } } : {}),
    };
}

export const getOfficeConfiguration: Operation = (call) => {
    let select: string[] | undefined;
    try {
        ({ select } = parseOfficeConfigurationOptions(call.query));
    } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return Promise.resolve({
        status: 200,
        body: {
            '@odata.context': officeConfigurationContext(call.root, select),
            ...officeConfigurationResource(select),
        },
    });
};
