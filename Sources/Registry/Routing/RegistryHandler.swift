import Catalog
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// The OCI distribution pull API: who may ask (tokens), what is asked
/// (strict route parsing), and where the answer comes from: this node's
/// content first, then the cluster (`PeerRouter`), then a fast 404 so that
/// containerd goes upstream.
public struct RegistryHandler: HTTPHandler {
    public struct Configuration: Sendable {
        /// Networks whose requests need no token (CIDR, e.g. `10.0.0.0/8`);
        /// loopback never needs one.
        public var trustedNetworks: [CIDR] = []
        public var tagPolicy = TagPolicy()
        /// Largest manifest served.
        public var maximumManifestSize = 4 << 20
        /// What goes through peers, fetched and served (see `PeerSharing`).
        public var sharing = PeerSharing()

        public init() {}
    }

    let local: LocalContent
    let router: PeerRouter
    /// Cluster single flight for blobs no member holds; nil: a fast 404.
    let coldPull: ColdPull?
    let seal: PeerAnswerSeal
    let metrics: RegistryMetrics
    let configuration: Configuration
    let logger: Logger

    public init(
        catalog: LocalCatalog, store: any ContentStore, router: PeerRouter, coldPull: ColdPull? = nil, metrics: RegistryMetrics,
        configuration: Configuration = .init(), logger: Logger
    ) {
        self.local = LocalContent(catalog: catalog, store: store, logger: logger)
        self.router = router
        self.coldPull = coldPull
        self.seal = PeerAnswerSeal(credentials: router.credentials)
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
            guard let token, await router.credentials.verify(token, method: request.method.rawValue, target: request.uri) else {
                metrics.tokenRejected()
                return .ociError(.unauthorized, .unauthorized, "requests from other hosts need a cluster token")
            }
        }
        var response =
            request.path.hasPrefix(ClaimMessage.pathPrefix) ? claim(request, fromPeer: fromPeer) : await route(request, fromPeer: fromPeer)
        if fromPeer, let token {
            await response.seal(with: seal, token: token, method: request.method.rawValue, target: request.uri)
        }
        return response
    }

    private func isTrusted(_ request: HTTPRequest) -> Bool {
        guard !configuration.trustedNetworks.isEmpty, let ip = request.remoteAddress?.ipAddress else { return false }
        return configuration.trustedNetworks.contains { $0.contains(ip) }
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
            return await manifest(reference, isHead: request.method == .HEAD, fromPeer: fromPeer, started: started)
        case .blob(let repository, let digest):
            return await blob(digest, repository: repository, request: request, fromPeer: fromPeer, started: started)
        }
    }

    // MARK: Manifests

    private func manifest(_ reference: ImageReference, isHead: Bool, fromPeer: Bool, started: ContinuousClock.Instant) async -> HTTPResponse {
        // Tags move upstream: one the policy does not resolve (e.g. `latest`)
        // gets a 404 even when held here, so containerd asks the upstream for
        // the current digest and then fetches that digest from us.
        let sharing = configuration.sharing
        guard reference.digest != nil || configuration.tagPolicy.allowsTag(reference), !fromPeer || sharing.admits(manifest: reference)
        else { return miss(.manifestUnknown, started) }
        if let found = await local.manifest(reference, limit: configuration.maximumManifestSize) {
            metrics.resolved(in: ContinuousClock.now - started)
            metrics.count(.local)
            if !isHead { metrics.served(localBytes: Int64(found.bytes.count)) }
            return manifestResponse(found.bytes, digest: found.descriptor.digest, mediaType: found.descriptor.mediaType, source: Self.fromLocal)
        }
        guard !fromPeer, configuration.tagPolicy.filter.admits(reference), sharing.admits(manifest: reference),
            let fetched = await router.manifest(reference)
        else { return miss(.manifestUnknown, started) }
        metrics.resolved(in: ContinuousClock.now - started)
        metrics.count(.peer)
        return manifestResponse(fetched.bytes, digest: fetched.digest, mediaType: fetched.mediaType, source: Self.fromPeer(fetched.peer))
    }

    private func manifestResponse(_ bytes: [UInt8], digest: Digest, mediaType: String, source: Logger.Metadata) -> HTTPResponse {
        var headers = Self.apiHeaders
        headers.add(name: "Content-Type", value: mediaType)
        headers.add(name: "Docker-Content-Digest", value: digest.description)
        headers.add(name: "Etag", value: "\"\(digest)\"")
        return HTTPResponse(status: .ok, headers: headers, body: .bytes(ByteBuffer(bytes: bytes)), logMetadata: source)
    }

    func miss(_ code: OCIErrorCode, _ started: ContinuousClock.Instant) -> HTTPResponse {
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
        // A malformed Range is 400 wherever the blob is; whether it is
        // satisfiable is decided once the size is known, local or relayed.
        var range: RangeRequest?
        if let header = request.headers.first(name: "Range") {
            do { range = try RangeRequest.parse(header) } catch {
                return .ociError(.badRequest, .rangeInvalid, "malformed Range header")
            }
        }
        let isHead = request.method == .HEAD
        let shared = configuration.sharing.admits(registry: repository.registry, byDigest: true)
        if !fromPeer || shared, let found = await local.blob(digest) {
            metrics.resolved(in: ContinuousClock.now - started)
            metrics.count(.local)
            return blobResponse(digest, size: found.size, body: found.body, range: range, isHead: isHead, source: Self.fromLocal) {
                metrics.served(localBytes: $0)
            }
        }
        if fromPeer, shared, !isHead, request.query["follow"] == "1", let coldPull {
            return await serveFollower(digest, coldPull: coldPull, range: range, started: started)
        }
        guard !fromPeer, shared, configuration.tagPolicy.filter.admits(repository) else { return miss(.blobUnknown, started) }
        guard let relayed = await router.blob(digest, repository: repository, headOnly: isHead) else {
            // No member has it: the cluster's single flight (`ColdPull`).
            guard !isHead, let coldPull else { return miss(.blobUnknown, started) }
            return await coldBlob(digest, repository: repository, coldPull: coldPull, range: range, started: started)
        }
        metrics.resolved(in: ContinuousClock.now - started)
        metrics.count(.peer)
        // Relayed bytes are counted as they pass (`PeerRouter.blob`).
        return blobResponse(digest, size: relayed.size, body: relayed.body, range: range, isHead: isHead, source: Self.fromPeer(relayed.peer)) { _ in }
    }

    /// The answer for `range` (nil: all) of a blob of `size` bytes: one range
    /// resolution for local and relayed blobs alike.
    func blobResponse(
        _ digest: Digest, size: Int64, body: BlobBody?, range: RangeRequest?, isHead: Bool, source: Logger.Metadata,
        count: (Int64) -> Void
    ) -> HTTPResponse {
        var headers = Self.apiHeaders
        headers.add(name: "Content-Type", value: "application/octet-stream")
        headers.add(name: "Docker-Content-Digest", value: digest.description)
        headers.add(name: "Accept-Ranges", value: "bytes")
        headers.add(name: "Etag", value: "\"\(digest)\"")
        var window: ResolvedRange?
        do { window = try range?.resolve(length: size) } catch {
            body?.discard()
            var response = HTTPResponse.ociError(.rangeNotSatisfiable, .rangeInvalid, "range outside the blob")
            response.headers.add(name: "Content-Range", value: "bytes */\(size)")
            response.logMetadata = source
            return response
        }
        if let window { headers.add(name: "Content-Range", value: window.contentRange(length: size)) }
        let length = window?.count ?? size
        if !isHead { count(length) }
        let status: HTTPResponseStatus = window == nil ? .ok : .partialContent
        guard let body else {
            return HTTPResponse(status: status, headers: headers.adding("Content-Length", "\(length)"), logMetadata: source)
        }
        return HTTPResponse(status: status, headers: headers, body: body.window(window, size: size), logMetadata: source)
    }
}

extension HTTPHeaders {
    func adding(_ name: String, _ value: String) -> HTTPHeaders {
        var copy = self
        copy.add(name: name, value: value)
        return copy
    }
}
