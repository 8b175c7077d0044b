import Catalog
import NIOCore

/// A manifest fetched from a peer and verified against its digest.
public struct PeerManifest: Sendable {
    public var digest: Digest
    public var mediaType: String
    public var bytes: [UInt8]
    public var peer: String
}

/// A blob being relayed from peers. `chunks` yields exactly the requested
/// bytes; it throws instead of finishing if the whole blob does not match its
/// digest, and it holds back its last chunk until it has checked, so no
/// client ever receives a complete wrong blob.
public struct PeerBlob: Sendable {
    public var size: Int64
    public var range: ResolvedRange?
    public var chunks: AsyncThrowingStream<ByteBuffer, any Error>
    /// The peer the transfer starts from (after a failure it may resume on another).
    public var peer: String
}

/// Fetches from peers' registry ports with the hop marker and a token.
public protocol PeerClient: Sendable {
    /// The manifest `reference` names, from the first candidate that has it.
    func manifest(_ reference: ImageReference, from candidates: [PeerCandidate]) async -> PeerManifest?
    /// `digest` (or a range of it) from the first candidate that has it,
    /// resuming from the next candidate after a mid-stream failure.
    func blob(_ digest: Digest, repository: ImageReference, range: String?, from candidates: [PeerCandidate]) async -> PeerBlob?
    /// The size of `digest` at the first candidate that has it (for HEAD).
    func blobSize(_ digest: Digest, repository: ImageReference, from candidates: [PeerCandidate]) async -> Int64?
}
