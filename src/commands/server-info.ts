/** The Redis version weft answers as (HELLO, INFO): the one its behaviour is checked against. */
export const REDIS_VERSION = '7.0.15';
