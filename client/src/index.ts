export { KpiggybankClient, type DrainStreamOptions, type IterateOptions, type RangeOptions } from './client.js';
export { ChangeFeed, KpiggybankFeedError, type ChangeFeedOptions, type FeedState } from './change-feed.js';
export { KpiggybankError, KpiggybankHttpError, KpiggybankNetworkError, KpiggybankResponseError, type SchemaViolation } from './errors.js';
export { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
export { fetchHttp, type HttpExchange, type HttpRequest, type HttpResponse } from './http.js';
export type { CallOptions, ClientOptions } from './transport.js';
export type { WebSocketConstructor } from './websocket.js';
export * from './wire.js';
