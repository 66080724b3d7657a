// Where a byte sequence stops being UTF-8, by the rules TextDecoder's fatal mode applies (WHATWG
// Encoding): no overlong forms, no surrogates (ED A0-BF), nothing above U+10FFFF, no truncated
// sequence. Run only after a decode has failed, to tell the producer where.

/** The byte offset where the first invalid UTF-8 sequence starts, or undefined when all is valid. */
export function firstInvalidUtf8(bytes: Uint8Array): number | undefined {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] as number;
    if (lead < 0x80) {
      i++;
      continue;
    }
    let needed: number;
    let lower = 0x80;
    let upper = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) needed = 1;
    else if (lead >= 0xe0 && lead <= 0xef) {
      needed = 2;
      if (lead === 0xe0) lower = 0xa0; // overlong
      if (lead === 0xed) upper = 0x9f; // surrogates
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      needed = 3;
      if (lead === 0xf0) lower = 0x90; // overlong
      if (lead === 0xf4) upper = 0x8f; // above U+10FFFF
    } else return i;
    for (let k = 1; k <= needed; k++) {
      const b = bytes[i + k];
      const [lo, hi] = k === 1 ? [lower, upper] : [0x80, 0xbf];
      if (b === undefined || b < lo || b > hi) return i;
    }
    i += needed + 1;
  }
  return undefined;
}
