/** A key's version as a conditional write sees it (latest proposed, committed or not). */
export interface VersionView {
  present: boolean;
  version: number;
  expiresAt: number | null;
}

/** `If-Match: "<version>"` (or `*`: any present version) and `If-None-Match: *`. */
export interface Precondition {
  ifMatch?: number | '*' | undefined;
  ifNoneMatch?: boolean | undefined;
}

/** Why the precondition fails, or undefined when it holds. */
export function checkPrecondition(precondition: Precondition, current: VersionView): string | undefined {
  const { ifMatch, ifNoneMatch } = precondition;
  if (ifNoneMatch && current.present) return `key exists at version ${current.version}`;
  if (ifMatch === undefined) return undefined;
  if (!current.present) return 'key does not exist';
  if (ifMatch !== '*' && ifMatch !== current.version) return `key is at version ${current.version}, not ${ifMatch}`;
  return undefined;
}
