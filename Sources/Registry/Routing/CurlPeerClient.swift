import Catalog
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Fetches from peers' registry ports through libcurl (`PeerFetcher`):
/// every request carries the hop marker and a cluster token; manifests and
/// small blobs are buffered and verified before anything is served; large
/// blobs stream, resume on the next candidate after a failure, and end in an
/// error (the client connection is aborted) if the bytes do not match.
public struct CurlPeerClient: PeerClient {
    /// Blobs up to this size are verified whole before the first byte goes out.
    public static let bufferedBlobLimit = 1 << 20
    static let manifestLimit = 4 << 20
    static let manifestTypes = [
        MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerManifestList, MediaType.dockerManifest,
    ].joined(separator: ", ")

    let fetcher: PeerFetcher
    let credentials: PeerCredentials
    let seal: PeerAnswerSeal
    let metrics: RegistryMetrics
    let peers: PeerDirectory
    let logger: Logger
    let connectTimeout: Duration
    /// Holders that must name the same digest before a tag is answered
    /// through peers (1: the first holder's sealed word is taken).
    let tagQuorum: Int

    public init(
        fetcher: PeerFetcher = PeerFetcher(),
        credentials: PeerCredentials, metrics: RegistryMetrics, peers: PeerDirectory, logger: Logger,
        connectTimeout: Duration = .milliseconds(200), tagQuorum: Int = 1
    ) {
        self.fetcher = fetcher
        self.credentials = credentials
        self.seal = PeerAnswerSeal(credentials: credentials)
        self.metrics = metrics
        self.peers = peers
        self.logger = logger
        self.connectTimeout = connectTimeout
        self.tagQuorum = max(1, tagQuorum)
    }

    /// `/v2/<repository>/<kind>/<reference>?ns=<registry>` as the peer expects it.
    static func target(_ repository: ImageReference, kind: String, reference: String) -> String {
        "/v2/\(repository.repository)/\(kind)/\(reference)?ns=\(repository.registry)"
    }

    /// A request to `peer`, carrying the hop marker and a fresh token for that peer.
    private func request(_ peer: PeerCandidate, target: String, method: PeerRequest.Method, accept: String? = nil) async -> PeerRequest {
        var headers: HTTPHeaders = [PeerCredentials.hopHeader: "1"]
        if let token = await credentials.token(method: method.rawValue, target: target, destination: peer.name) {
            headers.add(name: PeerCredentials.tokenHeader, value: token)
        }
        if let accept { headers.add(name: "Accept", value: accept) }
        return PeerRequest(url: "http://\(peer.registryAddress)\(target)", method: method, headers: headers, connectTimeout: connectTimeout)
    }

    /// Whether `head`, answered by `peer` to `request`, carries the peer's seal.
    private func isSealed(_ head: PeerResponseHead, by peer: String, for request: PeerRequest, target: String) async -> Bool {
        guard let token = request.headers.first(name: PeerCredentials.tokenHeader) else { return false }
        return await seal.verify(head, responder: peer, token: token, method: request.method.rawValue, target: target)
    }

    static let unsealed = PeerFetchError.invalidResponse("the answer is not sealed by the peer")

    /// Records a failed attempt; a peer that served wrong bytes is penalised.
    private func failed(_ peer: String, _ error: any Error) {
        peers.end(peer, failed: true)
        if case PeerFetchError.digestMismatch = error {
            metrics.verificationFailed()
            peers.penalise(peer)
            logger.warning("peer served bytes that do not match their digest", metadata: ["peer": "\(peer)", "error": "\(error)"])
        } else if case PeerFetchError.httpStatus(404) = error {
            // A Bloom false positive or a just-deleted image: not the peer's fault.
        } else {
            metrics.peerFailed()
            logger.debug("peer request failed", metadata: ["peer": "\(peer)", "error": "\(error)"])
        }
    }

    public func manifest(_ reference: ImageReference, from candidates: [PeerCandidate]) async -> PeerManifest? {
        let ref = reference.digest?.description ?? reference.tag ?? "latest"
        let target = Self.target(reference, kind: "manifests", reference: ref)
        for peer in candidates {
            peers.begin(peer.name)
            do {
                let request = await request(peer, target: target, method: .get, accept: Self.manifestTypes)
                let content: VerifiedPeerContent
                if let digest = reference.digest {
                    content = try await fetcher.fetchVerified(request, expected: digest, bufferLimit: Self.manifestLimit)
                    guard await isSealed(content.head, by: peer.name, for: request, target: target) else { throw Self.unsealed }
                } else {
                    content = try await fetchTagged(request, from: peer.name, target: target)
                }
                peers.end(peer.name, failed: false)
                guard let mediaType = content.head.contentType, MediaType.isManifest(mediaType) || MediaType.isIndex(mediaType) else {
                    failed(peer.name, PeerFetchError.invalidResponse("not a manifest media type"))
                    continue
                }
                if reference.digest == nil, tagQuorum > 1 {
                    let others = candidates.filter { $0.name != peer.name }
                    guard await confirmTag(target, names: content.digest, agreeing: tagQuorum - 1, among: others) else {
                        logger.info(
                            "tag not answered: fewer holders than the quorum name the same digest",
                            metadata: ["reference": "\(reference)", "digest": "\(content.digest)", "quorum": "\(tagQuorum)"])
                        return nil
                    }
                }
                return PeerManifest(
                    digest: content.digest, mediaType: mediaType, bytes: Array(buffer: content.bytes), peer: peer.name)
            } catch {
                failed(peer.name, error)
            }
        }
        return nil
    }

    /// Whether `needed` more holders answer a sealed HEAD of the tag at
    /// `target` with `digest`. Any holder naming another digest ends the
    /// vote: the tag is contested (moving upstream, or a liar), and the
    /// upstream is the one to ask.
    private func confirmTag(_ target: String, names digest: Digest, agreeing needed: Int, among others: [PeerCandidate]) async -> Bool {
        var agreeing = 0
        for peer in others where agreeing < needed {
            peers.begin(peer.name)
            do {
                let request = await request(peer, target: target, method: .head, accept: Self.manifestTypes)
                let response = try await fetcher.fetch(request)
                await response.body.discard()
                guard response.status == 200 else { throw PeerFetchError.httpStatus(response.status) }
                guard await isSealed(response.head, by: peer.name, for: request, target: target) else { throw Self.unsealed }
                peers.end(peer.name, failed: false)
                guard response.dockerContentDigest == digest else { return false }
                agreeing += 1
            } catch {
                failed(peer.name, error)
            }
        }
        return agreeing >= needed
    }

    /// A manifest by tag: the peer names the digest in `Docker-Content-Digest`
    /// and the bytes must hash to it. (Which digest a tag points to is the
    /// peer's word; the tag policy decides whether to take it.)
    private func fetchTagged(_ request: PeerRequest, from peer: String, target: String) async throws -> VerifiedPeerContent {
        let response = try await fetcher.fetch(request)
        guard response.status == 200 else {
            await response.body.discard()
            throw PeerFetchError.httpStatus(response.status)
        }
        guard await isSealed(response.head, by: peer, for: request, target: target) else {
            response.body.cancel()
            throw Self.unsealed
        }
        guard let claimed = response.dockerContentDigest else {
            response.body.cancel()
            throw PeerFetchError.invalidResponse("no Docker-Content-Digest for a tag")
        }
        let bytes = try await response.collect(upTo: Self.manifestLimit, verifying: claimed)
        return VerifiedPeerContent(head: response.head, bytes: bytes, digest: claimed)
    }

    /// The size of a blob at the first candidate that has it, and the
    /// candidates from that one on.
    private func locateBlob(_ target: String, from candidates: [PeerCandidate]) async -> (Int64, ArraySlice<PeerCandidate>)? {
        for (index, peer) in candidates.enumerated() {
            peers.begin(peer.name)
            do {
                let request = await request(peer, target: target, method: .head)
                let response = try await fetcher.fetch(request)
                await response.body.discard()
                guard response.status == 200, let length = response.contentLength else {
                    throw PeerFetchError.httpStatus(response.status)
                }
                guard await isSealed(response.head, by: peer.name, for: request, target: target) else { throw Self.unsealed }
                peers.end(peer.name, failed: false)
                return (length, candidates[index...])
            } catch {
                failed(peer.name, error)
            }
        }
        return nil
    }

    public func blobSize(_ digest: Digest, repository: ImageReference, from candidates: [PeerCandidate]) async -> Int64? {
        await locateBlob(Self.target(repository, kind: "blobs", reference: digest.description), from: candidates)?.0
    }

    public func blob(_ digest: Digest, repository: ImageReference, range: String?, from candidates: [PeerCandidate]) async -> PeerBlob? {
        let target = Self.target(repository, kind: "blobs", reference: digest.description)
        guard let (size, holders) = await locateBlob(target, from: candidates) else { return nil }
        if size <= Int64(Self.bufferedBlobLimit) {
            for peer in holders {
                peers.begin(peer.name)
                do {
                    let request = await request(peer, target: target, method: .get)
                    let content = try await fetcher.fetchVerified(request, expected: digest, bufferLimit: Self.bufferedBlobLimit)
                    guard await isSealed(content.head, by: peer.name, for: request, target: target) else { throw Self.unsealed }
                    peers.end(peer.name, failed: false)
                    var bytes = content.bytes
                    metrics.served(peerBytes: Int64(bytes.readableBytes))
                    // The length is that of the verified bytes, never the
                    // HEAD's claim (issue 9, finding 11): a peer whose HEAD
                    // lied must not make us declare a Content-Length that the
                    // body does not fill.
                    let length = Int64(bytes.readableBytes)
                    // An unusable Range is ignored (RFC 9110 allows it): the whole blob follows.
                    let window = range.flatMap { try? ResolvedRange.parse($0, length: length) }
                    if let window { bytes = bytes.getSlice(at: bytes.readerIndex + Int(window.first), length: Int(window.count))! }
                    let chunks = AsyncThrowingStream<ByteBuffer, any Error> { c in
                        c.yield(bytes)
                        c.finish()
                    }
                    return PeerBlob(size: length, range: window, chunks: chunks, peer: peer.name)
                } catch {
                    failed(peer.name, error)
                }
            }
            return nil
        }
        // An unusable Range is ignored (RFC 9110 allows it): the whole blob follows.
        let window = range.flatMap { try? ResolvedRange.parse($0, length: size) }
        var requests: [PeerRequest] = []
        for peer in holders { requests.append(await request(peer, target: target, method: .get)) }
        let names = Dictionary(zip(requests.map(\.url), holders.map(\.name)), uniquingKeysWith: { first, _ in first })
        let directory = peers
        let metrics = self.metrics
        let logger = self.logger
        let served = ServedBy()
        let seal = self.seal
        let accept: @Sendable (PeerRequest, PeerResponseHead) async -> Bool = { request, head in
            guard let name = names[request.url], let token = request.headers.first(name: PeerCredentials.tokenHeader) else { return false }
            return await seal.verify(head, responder: name, token: token, method: request.method.rawValue, target: target)
        }
        let onEvent: @Sendable (PeerResumeEvent) -> Void = { event in
            switch event {
            case .serving(let url, _):
                if let name = names[url] { served.add(name) }
            case .failed(let url, let error, let offset):
                guard let name = names[url] else { return }
                directory.end(name, failed: true)
                metrics.peerFailed()
                logger.info("peer transfer failed, resuming elsewhere", metadata: ["peer": "\(name)", "offset": "\(offset)", "error": "\(error)"])
            }
        }
        let body = fetcher.fetchResuming(requests, expected: digest, expectedLength: size, onEvent: onEvent, accept: accept)
        let checked = PenalisingBody(base: body, onChunk: { metrics.served(peerBytes: Int64($0)) }, onMismatch: {
            metrics.verificationFailed()
            for name in served.names { directory.penalise(name) }
            logger.warning("relayed blob did not match its digest; aborted", metadata: ["digest": "\(digest)", "peers": "\(served.names)"])
        })
        if let window {
            return PeerBlob(
                size: size, range: window, chunks: WindowedBody(base: checked, window: window).throwingStream(),
                peer: holders.first!.name)
        }
        return PeerBlob(size: size, range: nil, chunks: checked.throwingStream(), peer: holders.first!.name)
    }
}

/// Names of the peers that contributed bytes to one relayed blob.
final class ServedBy: Sendable {
    private let storage = Synchronization.Mutex<[String]>([])
    func add(_ name: String) { storage.withLock { if !$0.contains(name) { $0.append(name) } } }
    var names: [String] { storage.withLock { $0 } }
}

import Synchronization
