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
    let metrics: RegistryMetrics
    let peers: PeerDirectory
    let logger: Logger
    let connectTimeout: Duration

    public init(
        fetcher: PeerFetcher = PeerFetcher(),
        credentials: PeerCredentials, metrics: RegistryMetrics, peers: PeerDirectory, logger: Logger,
        connectTimeout: Duration = .milliseconds(200)
    ) {
        self.fetcher = fetcher
        self.credentials = credentials
        self.metrics = metrics
        self.peers = peers
        self.logger = logger
        self.connectTimeout = connectTimeout
    }

    /// `/v2/<repository>/<kind>/<reference>?ns=<registry>` as the peer expects it.
    static func target(_ repository: ImageReference, kind: String, reference: String) -> String {
        "/v2/\(repository.repository)/\(kind)/\(reference)?ns=\(repository.registry)"
    }

    private func request(_ peer: PeerCandidate, target: String, method: PeerRequest.Method, accept: String? = nil) async -> PeerRequest {
        var headers: HTTPHeaders = [PeerCredentials.hopHeader: "1"]
        if let token = await credentials.token(method: method.rawValue, target: target) {
            headers.add(name: PeerCredentials.tokenHeader, value: token)
        }
        if let accept { headers.add(name: "Accept", value: accept) }
        return PeerRequest(url: "http://\(peer.registryAddress)\(target)", method: method, headers: headers, connectTimeout: connectTimeout)
    }

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
                } else {
                    content = try await fetchTagged(request)
                }
                peers.end(peer.name, failed: false)
                guard let mediaType = content.head.contentType, MediaType.isManifest(mediaType) || MediaType.isIndex(mediaType) else {
                    failed(peer.name, PeerFetchError.invalidResponse("not a manifest media type"))
                    continue
                }
                return PeerManifest(
                    digest: content.digest, mediaType: mediaType, bytes: Array(buffer: content.bytes), peer: peer.name)
            } catch {
                failed(peer.name, error)
            }
        }
        return nil
    }

    /// A manifest by tag: the peer names the digest in `Docker-Content-Digest`
    /// and the bytes must hash to it. (Which digest a tag points to is the
    /// peer's word; the tag policy decides whether to take it.)
    private func fetchTagged(_ request: PeerRequest) async throws -> VerifiedPeerContent {
        let response = try await fetcher.fetch(request)
        guard response.status == 200 else {
            await response.body.discard()
            throw PeerFetchError.httpStatus(response.status)
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
                let response = try await fetcher.fetch(await request(peer, target: target, method: .head))
                await response.body.discard()
                guard response.status == 200, let length = response.contentLength else {
                    throw PeerFetchError.httpStatus(response.status)
                }
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
        var window: ResolvedRange?
        if let range {
            // An unusable Range is ignored (RFC 9110 allows it): the whole blob follows.
            window = try? ResolvedRange.parse(range, length: size)
        }
        if size <= Int64(Self.bufferedBlobLimit) {
            for peer in holders {
                peers.begin(peer.name)
                do {
                    let content = try await fetcher.fetchVerified(
                        await request(peer, target: target, method: .get), expected: digest, bufferLimit: Self.bufferedBlobLimit)
                    peers.end(peer.name, failed: false)
                    var bytes = content.bytes
                    metrics.served(peerBytes: Int64(bytes.readableBytes))
                    if let window { bytes = bytes.getSlice(at: Int(window.first), length: Int(window.count)) ?? bytes }
                    let chunks = AsyncThrowingStream<ByteBuffer, any Error> { c in
                        c.yield(bytes)
                        c.finish()
                    }
                    return PeerBlob(size: size, range: window, chunks: chunks, peer: peer.name)
                } catch {
                    failed(peer.name, error)
                }
            }
            return nil
        }
        var requests: [PeerRequest] = []
        for peer in holders { requests.append(await request(peer, target: target, method: .get)) }
        let names = Dictionary(zip(requests.map(\.url), holders.map(\.name)), uniquingKeysWith: { first, _ in first })
        let directory = peers
        let metrics = self.metrics
        let logger = self.logger
        let served = ServedBy()
        let body = fetcher.fetchResuming(requests, expected: digest, expectedLength: size) { event in
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
