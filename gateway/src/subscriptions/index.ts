export { serveGatewaySubscriptions, type GatewaySubscriptionOptions, type GatewaySubscriptions } from './subscription-server.js';
export { EventStream } from './event-stream.js';
