import Catalog
import NIOCore

extension ColdPull {
    /// A blob streamed from the member fetching it, ready to be answered.
    public struct Followed: Sendable {
        public var size: Int64
        /// The requested range of the blob, its first slice in hand (see
        /// `PrimedWindow`); nil when the range cannot be satisfied.
        public var body: BlobBody?
        public var fetcher: String
    }

    /// `digest` from `fetcher`'s mirror, which serves it from its
    /// containerd's ingest as it arrives (`follow=1`). The whole blob is
    /// read and verified; `range` is cut out of it. Returns once the first
    /// byte of the range is in hand, or nil when the follow failed before
    /// that (the caller then asks the coordinator again).
    func follow(
        _ digest: Digest, repository: ImageReference, from fetcher: ColdPullMembers.Member, range: RangeRequest?
    ) async -> Followed? {
        let target = PeerRouter.target(repository, kind: "blobs", reference: digest.description) + "&follow=1"
        let candidate = PeerCandidate(name: fetcher.name, registryAddress: fetcher.registryAddress, roundTripTime: nil, score: 0)
        // The fetcher's answer grows at the upstream's pace, in steps of a
        // MiB or more: its own stall timeout, not the peer path's 5 s
        // low-speed limit, decides when it has stalled.
        let attempt: PeerRouter.OpenAttempt
        switch await router.open(candidate, target: target, method: .get, lowSpeedTime: settings.stallTimeout + .seconds(5)) {
        case .success(let opened): attempt = opened
        case .failure(let error):
            logger.debug("cold-pull follow refused", metadata: ["fetcher": "\(fetcher.name)", "digest": "\(digest)", "error": "\(error)"])
            return nil
        }
        guard let size = attempt.response.contentLength, size > 0 else {
            attempt.fail(PeerFetchError.invalidResponse("no Content-Length"))
            return nil
        }
        if let claimed = attempt.response.dockerContentDigest, claimed != digest {
            attempt.fail(PeerFetchError.invalidResponse("the fetcher labels the content \(claimed)"))
            return nil
        }
        let window: ResolvedRange
        do { window = try range?.resolve(length: size) ?? ResolvedRange(first: 0, last: size - 1) } catch {
            attempt.fail(PeerFetchError.cancelled)
            return Followed(size: size, body: nil, fetcher: fetcher.name)
        }
        let served = ServedBy()
        let stream = RelayedStream(router: router, digest: digest, target: target, size: size, first: attempt, served: served)
        let metrics = self.metrics
        let router = self.router
        let verified = PenalisingBody(
            base: VerifyingBody(stream, expected: digest, maxLength: size),
            onChunk: {
                metrics.followed(bytes: $0)
                router.metrics.served(peerBytes: Int64($0))
            },
            onMismatch: { router.verificationFailed(served.names, settle: true) })
        do {
            let primed = try await verified.primed(to: window)
            // The range is already cut: the handler resolves the same request
            // against the same size for its headers.
            let chunks = primed.throwingStream()
            return Followed(size: size, body: .stream { _ in chunks }, fetcher: fetcher.name)
        } catch {
            metrics.followFailed()
            logger.info("cold-pull follow failed before its first byte", metadata: ["fetcher": "\(fetcher.name)", "digest": "\(digest)", "error": "\(error)"])
            return nil
        }
    }
}
