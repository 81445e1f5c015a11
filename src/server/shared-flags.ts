/**
 * The node's small shared flags buffer, one SharedArrayBuffer every worker
 * thread reads without messages: the active-expire switch (DEBUG
 * SET-ACTIVE-EXPIRE), the CLIENT PAUSE state (client-pause.ts) and the
 * number of MONITOR clients (monitor-feed.ts) and of watched keys
 * (watched-keys.ts), and the counts of client-side caching (key-tracking.ts).
 * Int32 words, and one f64.
 */

/** Int32 word: 1 while active expiry runs. */
export const ACTIVE_EXPIRE_WORD = 0;
/** Int32 words of the client pause: its type, a generation bumped on every change, a spin lock. */
export const PAUSE_TYPE_WORD = 1;
export const PAUSE_GENERATION_WORD = 2;
export const PAUSE_LOCK_WORD = 3;
/** Float64 slot (bytes 16..23): the pause's end, ms since the epoch. */
export const PAUSE_END_SLOT = 2;
/** Int32 word: MONITOR clients on every thread together. */
export const MONITORS_WORD = 6;
/** Int32 word: records of WATCHed keys in every shard together (watched-keys.ts); writes skip WATCH while 0. */
export const WATCHED_KEYS_WORD = 7;
/** Int32 words of client-side caching (key-tracking.ts): tracking clients, tracked keys and items, BCAST prefixes, node-wide. */
export const TRACKING_CLIENTS_WORD = 8;
export const TRACKING_KEYS_WORD = 9;
export const TRACKING_ITEMS_WORD = 10;
export const TRACKING_PREFIXES_WORD = 11;
export const FLAGS_BYTES = 48;
