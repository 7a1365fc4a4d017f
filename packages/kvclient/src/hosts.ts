/** Turning user-given gate addresses ("h:p", full urls, comma-separated lists) into base urls. */

export const DEFAULT_HOST = 'localhost:3000';

/**
 * Parses one or more host entries; each entry may itself be a comma-separated
 * list (as in KV_HOST). Entries without a scheme are taken as plain http.
 * Throws TypeError on an entry that is not a usable address, because that is
 * a configuration mistake to report at startup, not a runtime failure.
 */
export function parseHosts(entries: string | readonly string[]): string[] {
  const list = typeof entries === 'string' ? [entries] : entries;
  const hosts = list
    .flatMap((entry) => entry.split(','))
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
    .map(toBaseUrl);
  if (hosts.length === 0) throw new TypeError('no host given');
  return [...new Set(hosts)];
}

/** The hosts named by KV_HOST, or the default gate when it is unset or empty. */
export function hostsFromEnv(env: NodeJS.ProcessEnv): string[] {
  const value = env.KV_HOST?.trim();
  return parseHosts(value ? value : DEFAULT_HOST);
}

function toBaseUrl(entry: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(entry) ? entry : `http://${entry}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new TypeError(`invalid host '${entry}': expected host:port or a url`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`invalid host '${entry}': only http and https are supported`);
  }
  // Keep any path prefix (a gate behind a reverse proxy) but never a trailing slash.
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}
