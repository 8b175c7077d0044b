import Catalog
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// The OCI distribution pull API: local content first, then peers whose
/// summary matches, then a fast 404 so that containerd goes upstream.
public struct RegistryHandler: HTTPHandler {
    public struct Configuration: Sendable {
        /// Peers asked for one request before giving up.
        public var maximumPeerAttempts = 3
        /// Networks whose requests need no token (CIDR, e.g. `10.0.0.0/8`);
        /// loopback never needs one.
        public var trustedNetworks: [CIDR] = []
        public var tagPolicy = TagPolicy()
        /// Largest manifest served or fetched.
        public var maximumManifestSize = 4 << 20
        /// What goes through peers, fetched and served (see `PeerSharing`).
        public var sharing = PeerSharing()

        public init() {}
    }

    let catalog: LocalCatalog
    let store: any ContentStore
    let peers: PeerDirectory
    let client: any PeerClient
    let credentials: PeerCredentials
    let seal: PeerAnswerSeal
    let metrics: RegistryMetrics
    let configuration: Configuration
    let logger: Logger

    public init(
        catalog: LocalCatalog, store: any ContentStore, peers: PeerDirectory, client: any PeerClient,
        credentials: PeerCredentials, metrics: RegistryMetrics, configuration: Configuration = .init(), logger: Logger
    ) {
        self.catalog = catalog
        self.store = store
        self.peers = peers
        self.client = client
        self.credentials = credentials
        self.seal = PeerAnswerSeal(credentials: credentials)
        self.metrics = metrics
        self.configuration = configuration
        self.logger = logger
    }

    static let apiHeaders: HTTPHeaders = ["Docker-Distribution-API-Version": "registry/2.0"]

    public func handle(_ request: HTTPRequest) async -> HTTPResponse {
        guard request.method == .GET || request.method == .HEAD else {
            return .ociError(.methodNotAllowed, .unsupported, "this mirror only serves pulls")
        }
        let fromPeer = !request.headers[PeerCredentials.hopHeader].isEmpty
        let token = request.headers.first(name: PeerCredentials.tokenHeader)
        // A peer request (hop marker) always needs a token for this node, even
        // from loopback (several nodes may share a host), because its answer
        // is sealed over that token; a client's request needs one only from
        // off the node and outside the trusted networks.
        if fromPeer || (!request.isLoopback && !isTrusted(request)) {
            guard let token, await credentials.verify(token, method: request.method.rawValue, target: request.uri) else {
                metrics.tokenRejected()
                return .ociError(.unauthorized, .unauthorized, "requests from other hosts need a cluster token")
            }
        }
        var response = await route(request, fromPeer: fromPeer)
        if fromPeer, let token {
            await response.seal(with: seal, token: token, method: request.method.rawValue, target: request.uri)
        }
        return response
    }

    private func route(_ request: HTTPRequest, fromPeer: Bool) async -> HTTPResponse {
        let route: RegistryRoute
        do {
            route = try RegistryRoute.parse(path: request.path, namespace: request.query["ns"])
        } catch {
            return .ociError(error.notFound ? .notFound : .badRequest, error.code, error.message)
        }
        let started = ContinuousClock.now
        switch route {
        case .base:
            return HTTPResponse(
                status: .ok, headers: Self.apiHeaders.adding("Content-Type", "application/json"), body: .bytes(ByteBuffer(string: "{}")))
        case .manifest(let reference):
            return await manifest(reference, request: request, fromPeer: fromPeer, started: started)
        case .blob(let repository, let digest):
            return await blob(digest, repository: repository, request: request, fromPeer: fromPeer, started: started)
        }
    }

    private func isTrusted(_ request: HTTPRequest) -> Bool {
        guard !configuration.trustedNetworks.isEmpty, let ip = request.remoteAddress?.ipAddress else { return false }
        return configuration.trustedNetworks.contains { $0.contains(ip) }
    }

    // MARK: Manifests

    private func manifest(_ reference: ImageReference, request: HTTPRequest, fromPeer: Bool, started: ContinuousClock.Instant) async -> HTTPResponse {
        // Tags move upstream: one the policy does not resolve (e.g. `latest`)
        // gets a 404 even when held here, so containerd asks the upstream for
        // the current digest and then fetches that digest from us.
        guard reference.digest != nil || configuration.tagPolicy.allowsTag(reference),
            !fromPeer || configuration.sharing.admits(manifest: reference)
        else {
            return miss(.manifestUnknown, started)
        }
        let local: Descriptor?
        if let digest = reference.digest { local = await catalog.lookup(digest) } else { local = await catalog.resolve(reference) }
        if let local {
            do {
                let bytes = try await store.read(local.digest, limit: configuration.maximumManifestSize)
                metrics.resolved(in: ContinuousClock.now - started)
                metrics.count(.local)
                if request.method != .HEAD { metrics.served(localBytes: Int64(bytes.count)) }
                return manifestResponse(bytes: bytes, digest: local.digest, mediaType: local.mediaType, source: Self.fromLocal)
            } catch {
                // Listed but unreadable (garbage-collected a moment ago): try peers.
                logger.debug("local manifest unreadable", metadata: ["digest": "\(local.digest)", "error": "\(error)"])
            }
        }
        guard !fromPeer, configuration.tagPolicy.filter.admits(reference), configuration.sharing.admits(manifest: reference) else {
            return miss(.manifestUnknown, started)
        }
        let key = reference.digest.map { SummaryKey($0) } ?? SummaryKey(tagKey: reference.tagKey!)
        let candidates = Array(peers.candidates(for: key).prefix(configuration.maximumPeerAttempts))
        guard !candidates.isEmpty, let fetched = await client.manifest(reference, from: candidates) else {
            return miss(.manifestUnknown, started)
        }
        metrics.resolved(in: ContinuousClock.now - started)
        metrics.count(.peer)
        metrics.served(peerBytes: Int64(fetched.bytes.count))
        return manifestResponse(bytes: fetched.bytes, digest: fetched.digest, mediaType: fetched.mediaType, source: Self.fromPeer(fetched.peer))
    }

    private func manifestResponse(bytes: [UInt8], digest: Digest, mediaType: String, source: Logger.Metadata) -> HTTPResponse {
        var headers = Self.apiHeaders
        headers.add(name: "Content-Type", value: mediaType)
        headers.add(name: "Docker-Content-Digest", value: digest.description)
        headers.add(name: "Etag", value: "\"\(digest)\"")
        return HTTPResponse(status: .ok, headers: headers, body: .bytes(ByteBuffer(bytes: bytes)), logMetadata: source)
    }

    private func miss(_ code: OCIErrorCode, _ started: ContinuousClock.Instant) -> HTTPResponse {
        metrics.missed(in: ContinuousClock.now - started)
        var response = HTTPResponse.ociError(
            .notFound, code, code == .manifestUnknown ? "manifest unknown to this mirror" : "blob unknown to this mirror")
        response.logMetadata = ["source": "miss"]
        return response
    }

    // Access log annotations (see `HTTPServer.accessLog`).
    static let fromLocal: Logger.Metadata = ["source": "local"]
    static func fromPeer(_ name: String?) -> Logger.Metadata {
        guard let name else { return ["source": "peer"] }
        return ["source": "peer", "peer": "\(name)"]
    }

    // MARK: Blobs

    private func blob(
        _ digest: Digest, repository: ImageReference, request: HTTPRequest, fromPeer: Bool, started: ContinuousClock.Instant
    ) async -> HTTPResponse {
        let rangeHeader = request.headers.first(name: "Range")
        let shared = configuration.sharing.admits(registry: repository.registry, byDigest: true)
        if !fromPeer || shared, let local = await catalog.lookup(digest) {
            if let response = await localBlob(
                local, rangeHeader: rangeHeader, isHead: request.method == .HEAD, started: started)
            {
                return response
            }
        }
        guard !fromPeer, shared, configuration.tagPolicy.filter.admits(repository) else { return miss(.blobUnknown, started) }
        let candidates = Array(peers.candidates(for: SummaryKey(digest)).prefix(configuration.maximumPeerAttempts))
        guard !candidates.isEmpty else { return miss(.blobUnknown, started) }
        if request.method == .HEAD {
            guard let size = await client.blobSize(digest, repository: repository, from: candidates) else {
                return miss(.blobUnknown, started)
            }
            metrics.resolved(in: ContinuousClock.now - started)
            metrics.count(.peer)
            return HTTPResponse(
                status: .ok, headers: blobHeaders(digest).adding("Content-Length", "\(size)"), logMetadata: Self.fromPeer(nil))
        }
        guard let relayed = await client.blob(digest, repository: repository, range: rangeHeader, from: candidates) else {
            return miss(.blobUnknown, started)
        }
        metrics.resolved(in: ContinuousClock.now - started)
        metrics.count(.peer)
        var headers = blobHeaders(digest)
        let status: HTTPResponseStatus
        let length: Int64
        if let range = relayed.range {
            status = .partialContent
            headers.add(name: "Content-Range", value: range.contentRange(length: relayed.size))
            length = range.count
        } else {
            status = .ok
            length = relayed.size
        }
        return HTTPResponse(
            status: status, headers: headers, body: .stream(length: length, relayed.chunks), logMetadata: Self.fromPeer(relayed.peer))
    }

    private func blobHeaders(_ digest: Digest) -> HTTPHeaders {
        var headers = Self.apiHeaders
        headers.add(name: "Content-Type", value: "application/octet-stream")
        headers.add(name: "Docker-Content-Digest", value: digest.description)
        headers.add(name: "Accept-Ranges", value: "bytes")
        headers.add(name: "Etag", value: "\"\(digest)\"")
        return headers
    }

    /// Serves a blob this node holds: zero-copy from containerd's content
    /// directory (or the OCI layout) when it is a file, else streamed from the
    /// store's API. Nil when the store no longer has it (e.g. just collected).
    private func localBlob(
        _ descriptor: Descriptor, rangeHeader: String?, isHead: Bool, started: ContinuousClock.Instant
    ) async -> HTTPResponse? {
        let source: BlobSource
        do { source = try await store.open(descriptor.digest, expectedSize: descriptor.size) } catch {
            logger.debug("local blob not served", metadata: ["digest": "\(descriptor.digest)", "error": "\(error)"])
            return nil
        }
        let size = source.size
        var headers = blobHeaders(descriptor.digest)
        var range: ResolvedRange?
        if let rangeHeader {
            do { range = try ResolvedRange.parse(rangeHeader, length: size) } catch {
                if case .malformed = error { return .ociError(.badRequest, .rangeInvalid, "malformed Range header") }
                var response = HTTPResponse.ociError(.rangeNotSatisfiable, .rangeInvalid, "range outside the blob")
                response.headers.add(name: "Content-Range", value: "bytes */\(size)")
                return response
            }
        }
        metrics.resolved(in: ContinuousClock.now - started)
        metrics.count(.local)
        let offset = range?.first ?? 0
        let length = range?.count ?? size
        if let range { headers.add(name: "Content-Range", value: range.contentRange(length: size)) }
        let status: HTTPResponseStatus = range == nil ? .ok : .partialContent
        switch source {
        case .file(let file):
            // FileRegion (sendfile) needs an NIOFileHandle: it takes the very
            // descriptor the store opened and checked (no second open by
            // path), which keeps working even if containerd's GC unlinks the
            // file meanwhile.
            guard let fd = file.takeDescriptor() else { return nil }
            let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd)
            if !isHead { metrics.served(localBytes: length) }
            return HTTPResponse(status: status, headers: headers, body: .file(handle, offset: offset, length: length), logMetadata: Self.fromLocal)
        case .stream(_, let chunks):
            if !isHead { metrics.served(localBytes: length) }
            return HTTPResponse(
                status: status, headers: headers, body: .stream(length: length, Self.window(chunks, offset: offset, length: length)),
                logMetadata: Self.fromLocal)
        }
    }

    /// The `offset..<offset+length` window of a chunk stream.
    static func window(
        _ chunks: AsyncThrowingStream<[UInt8], any Error>, offset: Int64, length: Int64
    ) -> AsyncThrowingStream<ByteBuffer, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    var position: Int64 = 0
                    let end = offset + length
                    for try await chunk in chunks {
                        let chunkEnd = position + Int64(chunk.count)
                        defer { position = chunkEnd }
                        guard chunkEnd > offset else { continue }
                        let from = Int(max(0, offset - position))
                        let to = Int(min(Int64(chunk.count), end - position))
                        if from < to { continuation.yield(ByteBuffer(bytes: chunk[from..<to])) }
                        if chunkEnd >= end { break }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

extension HTTPHeaders {
    func adding(_ name: String, _ value: String) -> HTTPHeaders {
        var copy = self
        copy.add(name: name, value: value)
        return copy
    }
}
