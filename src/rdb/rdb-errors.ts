/** A value in RDB format that cannot be read (short, or an unknown encoding). */
export class RdbFormatError extends Error {}
