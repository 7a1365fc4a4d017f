import { MUX_PATH, MUX_PROTOCOL, type MuxDoor, type MuxHandlers } from '@kvstore/wire';
import { peerCertificateRefusal } from '../tls/cluster-tls';
import { CLUSTER_PROOF_HEADER, proofSubject, type ClusterAuth } from './cluster-auth';

export interface PeerDoorOptions {
  /** Every upgrade must carry a proof of this cluster's secret. */
  auth: ClusterAuth;
  /** With TLS: every upgrade must also come with a client certificate the cluster CA signed. */
  requirePeerCertificate?: boolean;
  /** What peers may ask. */
  handlers: MuxHandlers;
  /** The longest frame a peer may send; a longer one closes its connection. */
  maxFrameBytes: number;
}

/** The peers' door, `/internal/mux`: a fresh proof of the cluster secret on the upgrade (and with TLS a certificate of the cluster CA). */
export function peerMuxDoor(options: PeerDoorOptions): Record<string, MuxDoor> {
  const subject = proofSubject('GET', MUX_PATH, MUX_PROTOCOL);
  const admission = { handlers: options.handlers, maxFrameBytes: options.maxFrameBytes };
  return {
    [MUX_PATH]: {
      admit(request, socket) {
        const proof = request.headers[CLUSTER_PROOF_HEADER];
        const refusal = options.auth.check(subject, typeof proof === 'string' ? proof : undefined);
        if (refusal !== undefined) throw new Error(`no valid cluster proof (${refusal})`);
        const certificate = options.requirePeerCertificate ? peerCertificateRefusal(socket) : undefined;
        if (certificate !== undefined) throw new Error(certificate);
        return admission;
      },
    },
  };
}
