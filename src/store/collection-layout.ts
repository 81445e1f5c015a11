/**
 * How a collection value sits in its key's entry (the bytes after the key,
 * at `valueStart`), per Redis encoding. The E_ENCODING byte of a
 * collection's entry holds one of `CollectionEncoding`, which is also what
 * OBJECT ENCODING names.
 *
 * Compact encodings keep the whole collection in the entry itself (one
 * allocation per key, as Redis keeps a listpack in one allocation); big
 * ones keep a fixed header there whose u32 offsets lead to arena blocks.
 * Those offsets only mean something inside their shard: whatever copies a
 * value elsewhere serialises it (collection-codec.ts).
 */

export const enum CollectionEncoding {
  Quicklist = 16,
  Listpack = 17,
  Intset = 18,
  Hashtable = 19,
  Skiplist = 20,
}

export const ENCODING_NAMES: Record<number, string> = {
  [CollectionEncoding.Quicklist]: 'quicklist',
  [CollectionEncoding.Listpack]: 'listpack',
  [CollectionEncoding.Intset]: 'intset',
  [CollectionEncoding.Hashtable]: 'hashtable',
  [CollectionEncoding.Skiplist]: 'skiplist',
};

// List (quicklist): value = header; nodes are arena blocks (quicklist.ts).
export const QL_HEAD = 0;
export const QL_TAIL = 4;
export const QL_COUNT = 8;
export const QL_NODES = 12;
export const QL_HEADER_BYTES = 16;

// Listpack hash / listpack sorted set: u32 element count (pairs), then packed elements (packed.ts).
export const LP_COUNT = 0;
export const LP_FIRST = 4;

// Intset: u32 count, u32 width (2, 4 or 8), then the sorted little-endian integers.
export const IS_COUNT = 0;
export const IS_WIDTH = 4;
export const IS_FIRST = 8;

// Hashtable set and hash: value = dict header (arena-dict.ts).
// Skiplist sorted set: dict header, then the skiplist header (skiplist.ts).
export const ZS_DICT = 0;
export const ZS_LIST = 24;
export const ZS_HEADER_BYTES = 24 + 16;
