import HashRing from 'hashring';

/**
 * Keys map to a fixed number of slots; slots, not keys, move between
 * partitions. The hash is part of the contract (docs/resharding.md): the
 * slot of a key is CRC-16/XMODEM of its UTF-8 bytes, modulo SLOT_COUNT.
 */
export const SLOT_COUNT = 4096;

const CRC_TABLE = ((): Uint16Array => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

const encoder = new TextEncoder();

/** The slot of `key`: CRC-16/XMODEM (poly 0x1021, init 0) of its UTF-8 bytes, mod 4096. */
export function slotOf(key: string): number {
  let crc = 0;
  // ASCII keys (the common case) need no encoder.
  let ascii = true;
  for (let index = 0; index < key.length; index++) {
    const code = key.charCodeAt(index);
    if (code > 0x7f) {
      ascii = false;
      break;
    }
    crc = ((crc << 8) & 0xffff) ^ CRC_TABLE[((crc >> 8) ^ code) & 0xff]!;
  }
  if (!ascii) {
    crc = 0;
    for (const byte of encoder.encode(key)) crc = ((crc << 8) & 0xffff) ^ CRC_TABLE[((crc >> 8) ^ byte) & 0xff]!;
  }
  return crc % SLOT_COUNT;
}

/**
 * Where slots should live: consistent hashing (`hashring`) of the slot
 * numbers over the partitions, so adding a partition to N moves about
 * 1/(N+1) of the slots, all of them to the new one. A placement is a wish;
 * the slot table in `/ring` says where each slot is.
 */
export function placeSlots(partitions: readonly string[]): string[] {
  const names = [...new Set(partitions)].sort();
  if (names.length === 0) return [];
  const ring = new HashRing(names, 'md5');
  return Array.from({ length: SLOT_COUNT }, (_, slot) => ring.get(`slot-${slot}`));
}
