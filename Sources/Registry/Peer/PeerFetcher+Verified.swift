import Catalog
import NIOCore

/// Content fetched whole and verified against its digest before anyone sees
/// a byte of it.
public struct VerifiedPeerContent: Sendable {
    /// The peer's response head (its `Content-Type` is the media type to
    /// serve a manifest with).
    public var head: PeerResponseHead
    public var bytes: ByteBuffer
    public var digest: Digest
}

extension PeerFetcher {
    /// Fetches a manifest or small blob whole, buffering at most `bufferLimit`
    /// bytes, and returns it only if it hashes to `expected`.
    ///
    /// Throws `.httpStatus` unless the peer answers 200, `.tooLarge` as soon
    /// as the declared or received length passes `bufferLimit`,
    /// `.invalidResponse` if the peer's `Docker-Content-Digest` names another
    /// digest (without downloading), and `.digestMismatch` if the bytes are wrong.
    public func fetchVerified(_ request: PeerRequest, expected: Digest, bufferLimit: Int) async throws -> VerifiedPeerContent {
        guard request.range == nil, request.method == .get else {
            throw PeerFetchError.invalidRequest("fetchVerified fetches whole representations with GET")
        }
        let response = try await fetch(request)
        guard response.status == 200 else {
            await response.body.discard()
            throw PeerFetchError.httpStatus(response.status)
        }
        if let claimed = response.dockerContentDigest, claimed != expected {
            response.body.cancel()
            throw PeerFetchError.invalidResponse("peer labels the content \(claimed), expected \(expected)")
        }
        if let length = response.contentLength, length > Int64(bufferLimit) {
            response.body.cancel()
            throw PeerFetchError.tooLarge
        }
        let bytes = try await response.collect(upTo: bufferLimit, verifying: expected)
        return VerifiedPeerContent(head: response.head, bytes: bytes, digest: expected)
    }

    /// Streams a whole blob from `candidates`, resuming with `Range` on the
    /// next candidate after a mid-stream failure, and verifying all bytes
    /// (across resumes) against `expected` with one running SHA-256.
    ///
    /// The result ends with `.digestMismatch` instead of completing when the
    /// bytes are wrong, and holds back its last chunk until the check passes
    /// (see `VerifyingBody`). `expectedLength`, when known, bounds the stream
    /// and lets a short response be told from a complete one. To retry the
    /// same peer, list it twice. `onEvent` reports which peers served bytes
    /// and which failed (to penalise them).
    public func fetchResuming(
        _ candidates: [PeerRequest],
        expected: Digest,
        expectedLength: Int64? = nil,
        onEvent: (@Sendable (PeerResumeEvent) -> Void)? = nil,
        accept: (@Sendable (PeerRequest, PeerResponseHead) async -> Bool)? = nil
    ) -> VerifyingBody<ResumingBody> {
        VerifyingBody(
            ResumingBody(
                fetcher: self, candidates: candidates, expected: expected, expectedLength: expectedLength, onEvent: onEvent,
                accept: accept),
            expected: expected, maxLength: expectedLength)
    }
}

extension PeerResponse {
    /// The whole body, hashed as it arrives: `.tooLarge` (the transfer
    /// cancelled) as soon as it passes `limit` bytes, `.digestMismatch` if it
    /// does not hash to `expected`.
    func collect(upTo limit: Int, verifying expected: Digest) async throws -> ByteBuffer {
        var bytes = ByteBufferAllocator().buffer(capacity: Int(min(contentLength ?? 0, Int64(limit))))
        var verifier = DigestVerifier()
        for try await chunk in body {
            guard bytes.readableBytes + chunk.readableBytes <= limit else {
                body.cancel()
                throw PeerFetchError.tooLarge
            }
            verifier.update(chunk)
            bytes.writeImmutableBuffer(chunk)
        }
        try verifier.verify(expected)
        return bytes
    }
}
