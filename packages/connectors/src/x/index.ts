export type { XCredentials } from './x-client.ts';
export { createXConnector, type XConnectorOptions, xIntentReplyUrl } from './x-connector.ts';
