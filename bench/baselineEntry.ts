/**
 * The baseline of the cold import, bundled: `@azure/functions` and `@azure/cosmos` whole, and nothing else. Bench
 * bundles this file with the options that bundle the app (scripts/package's BUNDLE_OPTIONS), so that the deployed
 * bundle is compared with the two SDKs bundled the same way. Re-exported, so that nothing is shaken out.
 */
export * as cosmos from '@azure/cosmos';
export * as functions from '@azure/functions';
