import Catalog
import Logging
import NIOCore

/// The registry's side of cold pulls (`ColdPull`): the claim endpoint, a
/// fetcher serving its followers, and a follower's request for a blob no
/// member holds.
extension RegistryHandler {
    /// A claim message from a member, answered by this node's coordinator.
    /// Peer requests only (the token has been checked by `handle`).
    func claim(_ request: HTTPRequest, fromPeer: Bool) -> HTTPResponse {
        guard fromPeer, let coldPull else {
            return .ociError(.notFound, .unsupported, "claims are for cluster members")
        }
        let message: ClaimMessage
        do { message = try ClaimMessage.parse(path: request.path, query: request.query) } catch {
            return .ociError(.badRequest, .unsupported, "not a claim message: \(error)")
        }
        return .text(.ok, coldPull.coordinator.answer(message).text + "\n")
    }

    /// A follower asks for a blob this node's containerd is fetching (or has
    /// just committed): served from the ingest as it grows, or a 404.
    func serveFollower(_ digest: Digest, coldPull: ColdPull, range: RangeRequest?, started: ContinuousClock.Instant) async -> HTTPResponse {
        guard let source = await coldPull.source(for: digest) else { return miss(.blobUnknown, started) }
        metrics.resolved(in: ContinuousClock.now - started)
        metrics.count(.local)
        let metadata: Logger.Metadata = ["source": "ingest"]
        switch source {
        case .committed(.file(let file)):
            guard let fd = file.takeDescriptor() else { return miss(.blobUnknown, started) }
            return blobResponse(
                digest, size: file.size, body: .file(NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd)), range: range,
                isHead: false, source: metadata
            ) { metrics.served(localBytes: $0) }
        case .committed(.stream(let size, let chunks)):
            return blobResponse(
                digest, size: size, body: .stream { range in StoreChunks(chunks, range: range).stream() }, range: range, isHead: false,
                source: metadata
            ) { metrics.served(localBytes: $0) }
        case .ingest(let total, let follower):
            let body = IngestBody(follower: follower, metrics: coldPull.metrics)
            return blobResponse(digest, size: total, body: .stream(body), range: range, isHead: false, source: metadata) {
                metrics.served(localBytes: $0)
            }
        }
    }

    /// A blob no member holds: fetch it from the upstream (404) under a
    /// claim, or follow the member that fetches it. A follow that fails
    /// before its first byte names that member unreachable to the
    /// coordinator, once, and takes the new answer.
    func coldBlob(
        _ digest: Digest, repository: ImageReference, coldPull: ColdPull, range: RangeRequest?, started: ContinuousClock.Instant
    ) async -> HTTPResponse {
        var unreachable: String?
        for _ in 0..<2 {
            guard case .follow(let fetcher) = await coldPull.route(digest, unreachable: unreachable) else { break }
            if let followed = await coldPull.follow(digest, repository: repository, from: fetcher, range: range) {
                metrics.resolved(in: ContinuousClock.now - started)
                metrics.count(.peer)
                let source: Logger.Metadata = ["source": "follow", "peer": "\(followed.fetcher)"]
                // Followed bytes are counted as they pass (`ColdPull.follow`).
                return blobResponse(digest, size: followed.size, body: followed.body, range: range, isHead: false, source: source) { _ in }
            }
            unreachable = fetcher.name
        }
        var response = miss(.blobUnknown, started)
        response.logMetadata = ["source": "miss", "cold-pull": "fetch"]
        return response
    }
}

/// An ingest as a blob body: the follower's chunks as `ByteBuffer`s, with
/// the bytes served and the followers counted (a follower counts from its
/// first read until its stream ends or is dropped).
struct IngestBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let follower: IngestFollower
    let metrics: ColdPullMetrics

    /// Counts one follower for as long as some copy of its iterator lives.
    final class Serving: Sendable {
        let metrics: ColdPullMetrics
        init(_ metrics: ColdPullMetrics) {
            self.metrics = metrics
            metrics.followerStarted()
        }
        deinit { metrics.followerEnded() }
    }

    struct AsyncIterator: AsyncIteratorProtocol, Sendable {
        var base: IngestFollower.AsyncIterator
        let metrics: ColdPullMetrics
        var serving: Serving?
        var ended = false

        mutating func next() async throws -> ByteBuffer? {
            guard !ended else { return nil }
            if serving == nil { serving = Serving(metrics) }
            do {
                guard let chunk = try await base.next() else {
                    end()
                    return nil
                }
                metrics.servedIngest(bytes: chunk.count)
                return ByteBuffer(bytes: chunk)
            } catch {
                end()
                throw error
            }
        }

        private mutating func end() {
            ended = true
            serving = nil
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: follower.makeAsyncIterator(), metrics: metrics) }
}
