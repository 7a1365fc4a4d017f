import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * LMDB maps its file into memory: a page it believes exists but the file
 * lacks (a file cut short) kills the process with SIGBUS the moment it is
 * touched, and opening the environment already touches pages. So, before
 * LMDB opens the file, read its two meta pages with plain file reads: the
 * newer one says which page is the last in use, and the file must reach it.
 *
 * Offsets are those of the LMDB inside lmdb-js: a 24-byte page header, then
 * MDB_meta (magic, version, address, mapsize, two 48-byte MDB_db of which the
 * first's md_pad is the page size, last page, txnid). A layout we do not
 * recognise (no magic where expected) is left to LMDB.
 */
const MAGIC = 0xbeefc0de;
const HEADER = 24;
const PAGE_SIZE_AT = HEADER + 24;
const LAST_PAGE_AT = HEADER + 120;
const TXNID_AT = HEADER + 128;

interface Meta {
  pageSize: number;
  lastPage: number;
  txnid: number;
}

function readMeta(fd: number, offset: number): Meta | undefined {
  const page = Buffer.alloc(TXNID_AT + 8);
  if (readSync(fd, page, 0, page.length, offset) < page.length || page.readUInt32LE(HEADER) !== MAGIC) return undefined;
  return {
    pageSize: page.readUInt32LE(PAGE_SIZE_AT),
    lastPage: Number(page.readBigUInt64LE(LAST_PAGE_AT)),
    txnid: Number(page.readBigUInt64LE(TXNID_AT)),
  };
}

/** Why the LMDB file at `path` cannot be opened safely, or undefined (also when there is no file yet). */
export function lmdbFileDamage(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const size = fstatSync(fd).size;
    const first = readMeta(fd, 0);
    if (!first) return size > 0 && size < 2 * 4096 ? `${path} is ${size} bytes: too short to hold its meta pages` : undefined;
    const second = readMeta(fd, first.pageSize);
    const meta = second && second.txnid > first.txnid ? second : first;
    const needed = (meta.lastPage + 1) * meta.pageSize;
    return size < needed ? `${path} is ${size} bytes but its pages need ${needed}: the file was cut short` : undefined;
  } finally {
    closeSync(fd);
  }
}
