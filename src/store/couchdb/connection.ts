/** Where the couchdb backend's server is, and as whom (config.ts reads it from the environment). */
export interface CouchConnection {
  /** Server URL without credentials: safe to log. */
  url: string;
  username: string;
  password: string;
}
