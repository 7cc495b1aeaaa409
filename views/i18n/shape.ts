/** A catalogue with exactly the keys (and message parameters) of another. */
export type Shape<T> = { [K in keyof T]: T[K] };
