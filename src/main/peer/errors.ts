// Why a snapshot transfer failed: a typed value for the member (which reports it to Raft) and for logs.

export type PeerErrorCode =
  /** No URL of the peer accepted a connection. */
  | 'unreachable'
  /** The peer refused the link or the snapshot (see the message). */
  | 'rejected'
  /** The link broke, or the peer spoke out of turn, before the transfer was acknowledged. */
  | 'broken'
  /** Nothing moved on the link for too long. */
  | 'timeout'
  /** Reading the local file failed. */
  | 'io'
  /** The transport was closed. */
  | 'closed';

export class PeerError extends Error {
  constructor(
    readonly code: PeerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PeerError';
  }
}
