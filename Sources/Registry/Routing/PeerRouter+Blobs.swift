import Catalog
import NIOCore

/// A blob from the cluster.
public struct RelayedBlob: Sendable {
    /// The blob's length: that of the verified bytes when buffered, the
    /// holder's sealed `Content-Length` when streamed (a stream that does not
    /// deliver exactly this many matching bytes ends in an error).
    public var size: Int64
    /// The whole blob in order, verified: it throws instead of ending when
    /// the bytes are wrong, and holds back its last chunk until it has
    /// checked. Nil for HEAD.
    public var body: BlobBody?
    /// The holder the transfer started from.
    public var peer: String
}

extension PeerRouter {
    /// `digest` from the first holder that has it (HEAD: its size only).
    ///
    /// One request per holder: the GET's `Content-Length` decides. Up to
    /// `bufferedBlobLimit`, the body is read whole and verified before it is
    /// returned; a failure moves on to the next holder. Larger blobs stream
    /// from the holder whose head came first, and resume elsewhere after a
    /// failure (`RelayedStream`).
    public func blob(_ digest: Digest, repository: ImageReference, headOnly: Bool = false) async -> RelayedBlob? {
        let target = Self.target(repository, kind: "blobs", reference: digest.description)
        var candidates = self.candidates(for: SummaryKey(digest))
        while let started = await start(candidates, target: target, method: headOnly ? .head : .get) {
            candidates = started.remaining
            let attempt = started.attempt
            guard let size = attempt.response.contentLength else {
                attempt.fail(PeerFetchError.invalidResponse("no Content-Length"))
                continue
            }
            if let claimed = attempt.response.dockerContentDigest, claimed != digest {
                attempt.fail(PeerFetchError.invalidResponse("the holder labels the content \(claimed)"))
                continue
            }
            if headOnly {
                await attempt.response.body.discard()
                attempt.lease.end(.served)
                return RelayedBlob(size: size, body: nil, peer: attempt.peer)
            }
            if size <= Int64(settings.bufferedBlobLimit) {
                do {
                    let bytes = try await attempt.response.collect(upTo: settings.bufferedBlobLimit, verifying: digest)
                    attempt.lease.end(.served)
                    metrics.served(peerBytes: Int64(bytes.readableBytes))
                    // The length is that of the verified bytes, whatever was declared.
                    return RelayedBlob(size: Int64(bytes.readableBytes), body: .buffered(bytes), peer: attempt.peer)
                } catch {
                    attempt.fail(error)
                    continue
                }
            }
            let served = ServedBy()
            let stream = RelayedStream(router: self, digest: digest, target: target, size: size, first: attempt, served: served)
            let metrics = self.metrics
            let verified = PenalisingBody(
                base: VerifyingBody(stream, expected: digest, maxLength: size),
                onChunk: { metrics.served(peerBytes: Int64($0)) },
                onMismatch: { [self] in verificationFailed(served.names, settle: true) })
            return RelayedBlob(size: size, body: .stream(verified), peer: attempt.peer)
        }
        return nil
    }
}
