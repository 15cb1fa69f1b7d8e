// Counters shared by the transport and its links; links increment them in place.

export interface PeerStats {
  /** Raft messages written to a peer link. */
  sent: number;
  /** Raft messages received and handed to onMessage. */
  received: number;
  /** Raft messages dropped before being written (queue full, unknown or removed peer, too large). */
  dropped: number;
  /** Frames that failed to decode (the link carrying them was closed). */
  decodeErrors: number;
  /** Incoming links refused at the handshake (version, cluster id, member id, unknown sender). */
  refused: number;
}

export const newStats = (): PeerStats => ({ sent: 0, received: 0, dropped: 0, decodeErrors: 0, refused: 0 });
