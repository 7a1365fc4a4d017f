import * as fs from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';

/** The three files of --tls-cert, --tls-key and --tls-ca. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

/** The files' contents, checked to make a context (the key matches the certificate). */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
}

/** A certificate, key or CA file that cannot be read or does not make a TLS context; the message names the files, never their content. */
export class TlsFilesError extends Error {
  override name = 'TlsFilesError';
  readonly code = 'TLS_FILES';
}

export interface TlsLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
}

/** What a server that reloads its certificate needs (https.Server and tls.Server have it). */
export interface SecureContextTarget {
  setSecureContext(options: tls.SecureContextOptions): void;
}

/** Reads the three files and checks that they make a context; throws TlsFilesError. */
export function readTlsMaterial(files: TlsFiles): TlsMaterial {
  const read = (flag: string, file: string): Buffer => {
    try {
      return fs.readFileSync(file);
    } catch (error) {
      throw new TlsFilesError(`${flag} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  };
  const material = { cert: read('--tls-cert', files.certFile), key: read('--tls-key', files.keyFile), ca: read('--tls-ca', files.caFile) };
  try {
    tls.createSecureContext(material);
  } catch (error) {
    throw new TlsFilesError(`--tls-cert ${files.certFile}, --tls-key ${files.keyFile}, --tls-ca ${files.caFile} make no TLS context: ${(error as Error).message}`);
  }
  return material;
}

/**
 * How often the files are read to notice a change. Their bytes are compared,
 * not their stat: a rewrite within one tick of the kernel's file clock keeps
 * size and mtime, and fs.watchFile's first stat is taken later, off the main
 * thread, so a change made just after start could become its baseline.
 */
const WATCH_INTERVAL_MS = 500;

/** The three files' bytes (or why one cannot be read), to notice any change, however the file was replaced. */
function snapshotOf(files: TlsFiles): string {
  return [files.certFile, files.keyFile, files.caFile]
    .map((file) => {
      try {
        return fs.readFileSync(file).toString('base64');
      } catch (error) {
        return `unreadable: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
      }
    })
    .join('\n');
}

/**
 * A process's TLS: its certificate and key for its listener and as a client
 * certificate towards peers, and the cluster CA it verifies peers against.
 * The files are re-read when they change (or on SIGHUP); a new set that
 * makes no context is logged and the old one kept.
 */
export class ClusterTls {
  private current: TlsMaterial;
  /** The files as last seen by the watch, taken before they were read: a change in between is seen at the next look. */
  private seen: string;
  private readonly servers = new Set<SecureContextTarget>();
  private watch: NodeJS.Timeout | undefined;
  private readonly onSignal = (): void => void this.reload('SIGHUP');

  constructor(
    readonly files: TlsFiles,
    private readonly logger: TlsLogger,
  ) {
    this.seen = snapshotOf(files);
    this.current = readTlsMaterial(files);
  }

  get material(): TlsMaterial {
    return this.current;
  }

  /**
   * For https.createServer: the certificate; with `askPeers` (a replica) a
   * client certificate is asked for but not required at the handshake (the
   * public API's clients have none; the internal routes check it).
   * A gate does not ask: a browser would offer its user's certificates.
   */
  serverOptions(askPeers: boolean): tls.TlsOptions {
    return { ...this.current, requestCert: askPeers, rejectUnauthorized: false };
  }

  /** For tls.connect and undici: verify the peer against the cluster CA, and present this process's certificate. */
  clientOptions(): tls.ConnectionOptions {
    return { ...this.current };
  }

  /**
   * undici's `connect` option, made by the caller's undici `buildConnector`
   * (each package has its own undici): a connection opened after a reload
   * gets the new material.
   */
  connector<Options, Callback>(
    build: (options: tls.ConnectionOptions & { timeout: number }) => (options: Options, callback: Callback) => void,
    timeoutMs: number,
  ): (options: Options, callback: Callback) => void {
    let builtFor = this.current;
    let connect = build({ ...this.clientOptions(), timeout: timeoutMs });
    return (options, callback) => {
      if (builtFor !== this.current) {
        builtFor = this.current;
        connect = build({ ...this.clientOptions(), timeout: timeoutMs });
      }
      connect(options, callback);
    };
  }

  /** Gives `server` every reloaded context (and returns it); starts watching the files on the first call. */
  serve<Target extends SecureContextTarget>(server: Target): Target {
    this.servers.add(server);
    if (this.watch) return server;
    // Unref'd: the watch does not hold the process (its servers do).
    this.watch = setInterval(() => this.look(), WATCH_INTERVAL_MS).unref();
    process.on('SIGHUP', this.onSignal);
    return server;
  }

  private look(): void {
    const now = snapshotOf(this.files);
    if (now === this.seen) return;
    this.seen = now;
    this.reload('file changed');
  }

  /** Re-reads the files; true when the new material is in use. */
  reload(reason: string): boolean {
    let material: TlsMaterial;
    try {
      material = readTlsMaterial(this.files);
    } catch (error) {
      this.logger.warn({ reason, err: { message: (error as Error).message } }, 'TLS files not reloaded: keeping the certificate in use');
      return false;
    }
    if (material.cert.equals(this.current.cert) && material.key.equals(this.current.key) && material.ca.equals(this.current.ca)) return true;
    this.current = material;
    for (const server of this.servers) server.setSecureContext(material);
    this.logger.info({ reason, cert: this.files.certFile }, 'TLS certificate reloaded');
    return true;
  }

  close(): void {
    if (!this.watch) return;
    clearInterval(this.watch);
    this.watch = undefined;
    process.off('SIGHUP', this.onSignal);
    this.servers.clear();
  }
}

/**
 * Why a connection to an internal route is refused for its certificate, or
 * undefined: with TLS on, a peer must present a certificate the cluster CA
 * signed (the server asks every client for one; the public API does without).
 */
export function peerCertificateRefusal(socket: net.Socket): string | undefined {
  if (!(socket instanceof tls.TLSSocket)) return 'not a TLS connection';
  if (socket.authorized) return undefined;
  return `no client certificate from the cluster CA (${String(socket.authorizationError ?? 'none presented')})`;
}
