// Protobuf varints for the hand-written encoders and decoders of log output
// (log-wire.ts, log-data-wire.ts): whole numbers up to 2^53, as the generated code's
// forceLong=number holds them.

export const EMPTY = Buffer.alloc(0);

/** Bytes of a varint: whole numbers up to 2^53 (the generated code's forceLong=number). */
export function varintLength(n: number): number {
  let len = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

export function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= 128) {
    buf[pos++] = (n % 128) | 128;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

/** A field's one-byte tag and then a varint (its value, or the length of what follows). */
export function writeTagged(buf: Buffer, pos: number, tag: number, n: number): number {
  buf[pos] = tag;
  return writeVarint(buf, pos + 1, n);
}

/** A varint at buf[at], as a number (up to 2^53), and where it ends; undefined if it does not end within `end`. */
export function readVarint(buf: Buffer, at: number, end: number): { value: number; next: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let pos = at; pos < end && pos < at + 10; pos++) {
    const b = buf[pos]!;
    value += (b & 127) * scale;
    if (b < 128) return { value, next: pos + 1 };
    scale *= 128;
  }
  return undefined;
}
