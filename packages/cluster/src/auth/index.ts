export { challengeHeaders } from './challenge';
export { Authenticator, type FailedLoginLogger, type UserSource } from './authenticator';
export { allows, isAdmin, requireAccess, type Access, type Principal } from './permissions';
export { bearerToken, issueToken, parseToken, tokenDigest, verifySecret, type ParsedToken } from './tokens';
export { UserDirectory, type TokenOwner } from './user-directory';
