/**
 * The timer jobs' schedules in Azure: the delivery's follows NOTIFICATION_INTERVAL_SECONDS, as the local host's
 * period does, in the NCRONTAB the Functions host reads (six fields, seconds first).
 */
import { describe, expect, it } from 'vitest';

import { ncrontabEvery, triggers } from '../../functions/triggers.js';
import { loadConfig } from '../../lib/platform/config.js';

describe('timer schedules', () => {
    it('writes a period as NCRONTAB: seconds under a minute, whole minutes above, one second at the finest', () => {
        expect(ncrontabEvery(2000)).toBe('*/2 * * * * *');
        expect(ncrontabEvery(100)).toBe('*/1 * * * * *');
        expect(ncrontabEvery(59_000)).toBe('*/59 * * * * *');
        expect(ncrontabEvery(60_000)).toBe('0 */1 * * * *');
        expect(ncrontabEvery(150_000)).toBe('0 */3 * * * *');
        expect(ncrontabEvery(3_600_000)).toBe('0 0 * * * *');
    });

    it('runs the delivery every NOTIFICATION_INTERVAL_SECONDS in Azure too, and the sweeper every 30 s', () => {
        const schedules = (env: Record<string, string>) =>
            Object.fromEntries(triggers.map((t) => [t.name, t.schedule(loadConfig(env))]));
        expect(schedules({})).toEqual({
            sweepDeletedConfigurations: '*/30 * * * * *',
            deliverChangeNotifications: '*/2 * * * * *',
        });
        expect(schedules({ NOTIFICATION_INTERVAL_SECONDS: '10' }).deliverChangeNotifications).toBe('*/10 * * * * *');
    });
});
