/** A Buffer over a store-rendered body's bytes (no copy: the bytes were transferred from a read worker). */
export const bufferOf = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
