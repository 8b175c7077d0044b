import Catalog
import Foundation
import Gossip
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

@testable import Registry

/// A whole registry front in process: an OCI-layout store and its catalog,
/// a peer directory, the handler with its peer client, and an `HTTPServer`
/// on 127.0.0.1 (port chosen by the kernel). No containerd, no subprocess.
///
/// Every request is recorded (`requests`). `intercept` sits behind the
/// handler and may rewrite its sealed response: re-sealed as this node when
/// `reseal` (a lying member with the key), left as rewritten otherwise
/// (someone on the path).
final class TestNode: Sendable {
    typealias Intercept = @Sendable (HTTPRequest, HTTPResponse) async -> HTTPResponse

    let name: String
    let port: Int
    let catalog: LocalCatalog
    let peers: PeerDirectory
    let credentials: PeerCredentials
    let metrics: RegistryMetrics
    let fetcher: PeerFetcher
    private let task: Task<Void, any Error>
    private let seen: Recorder

    final class Recorder: Sendable {
        let requests = Mutex<[HTTPRequest]>([])
    }

    var registryAddress: String { "127.0.0.1:\(port)" }
    var baseURL: String { "http://\(registryAddress)" }
    /// Every request this node received, in order.
    var requests: [HTTPRequest] { seen.requests.withLock { $0 } }

    private init(
        name: String, port: Int, catalog: LocalCatalog, peers: PeerDirectory, credentials: PeerCredentials,
        metrics: RegistryMetrics, fetcher: PeerFetcher, task: Task<Void, any Error>, seen: Recorder
    ) {
        self.name = name
        self.port = port
        self.catalog = catalog
        self.peers = peers
        self.credentials = credentials
        self.metrics = metrics
        self.fetcher = fetcher
        self.task = task
        self.seen = seen
    }

    deinit { task.cancel() }

    func stop() { task.cancel() }

    static let quiet = Logger(label: "test-node", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Starts a node serving `layout` (an empty layout when nil, made in `scratch`).
    static func start(
        _ name: String, key: ClusterKey, layout: String?, scratch: String,
        configuration: RegistryHandler.Configuration = .init(), tagQuorum: Int = 1,
        limits: HTTPServerLimits = .init(), intercept: Intercept? = nil, reseal: Bool = true
    ) async throws -> TestNode {
        var path = layout
        if path == nil {
            path = "\(scratch)/\(name)-empty"
            try FileManager.default.createDirectory(atPath: path!, withIntermediateDirectories: true)
            try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: "\(path!)/oci-layout"))
            try Data(#"{"schemaVersion":2,"manifests":[]}"#.utf8).write(to: URL(fileURLWithPath: "\(path!)/index.json"))
        }
        let store = try OCILayoutStore(path: path!, logger: quiet)
        let catalog = LocalCatalog(store: store, logger: quiet)
        await catalog.refresh()
        let peers = PeerDirectory(selfName: name)
        let credentials = PeerCredentials(nodeName: name) { [key] }
        let metrics = RegistryMetrics()
        let fetcher = PeerFetcher()
        let handler = RegistryHandler(
            catalog: catalog, store: store, peers: peers,
            client: CurlPeerClient(
                fetcher: fetcher, credentials: credentials, metrics: metrics, peers: peers, logger: quiet, tagQuorum: tagQuorum),
            credentials: credentials, metrics: metrics, configuration: configuration, logger: quiet)
        let seen = Recorder()
        let seal = PeerAnswerSeal(credentials: credentials)
        let front = FetchTestHandler { request in
            seen.requests.withLock { $0.append(request) }
            var response = await handler.handle(request)
            if let intercept {
                response = await intercept(request, response)
                if reseal, let token = request.headers.first(name: PeerCredentials.tokenHeader) {
                    await response.seal(with: seal, token: token, method: request.method.rawValue, target: request.uri)
                }
            }
            return response
        }
        let server = HTTPServer(host: "127.0.0.1", port: 0, handler: front, logger: quiet, limits: limits)
        let (bound, continuation) = AsyncStream<Int>.makeStream()
        let task = Task {
            try await server.run(onBound: { address in
                continuation.yield(address.port ?? 0)
                continuation.finish()
            })
        }
        var iterator = bound.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            task.cancel()
            throw FetchTestFailure("node \(name) did not bind")
        }
        return TestNode(
            name: name, port: port, catalog: catalog, peers: peers, credentials: credentials, metrics: metrics, fetcher: fetcher,
            task: task, seen: seen)
    }

    /// Makes every node know every other as an alive member with its
    /// registry address and summary (what gossip would tell it).
    static func link(_ nodes: [TestNode], rtt: [String: Duration] = [:]) async {
        var members: [SWIM.Member] = []
        for node in nodes {
            members.append(
                SWIM.Member(
                    name: node.name, endpoint: .init(host: "127.0.0.1", port: 7946), incarnation: 1, status: .alive,
                    metadata: ["registry": node.registryAddress], roundTripTime: rtt[node.name]))
        }
        for node in nodes {
            node.peers.update(members: members)
            for other in nodes where other.name != node.name {
                node.peers.setSummary(of: other.name, bytes: await other.catalog.summary)
            }
        }
    }
}

/// A test's HTTP client: status, headers and the whole body.
struct TestResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: ByteBuffer
    /// The transfer's error after some bytes, if it did not complete.
    var failure: PeerFetchError?

    var contentLength: Int64? { PeerResponseHead(status: status, headers: headers).contentLength }
}

extension PeerFetcher {
    /// `method url` with `headers`; the body read whole (an aborted body is
    /// reported in `failure`, with the bytes that came before it).
    func testRequest(
        _ url: String, method: PeerRequest.Method = .get, headers: HTTPHeaders = [:], range: PeerRequest.ByteRange? = nil
    ) async throws -> TestResponse {
        let response = try await fetch(PeerRequest(url: url, method: method, headers: headers, range: range, lowSpeedTime: .seconds(10)))
        var body = ByteBuffer()
        var failure: PeerFetchError?
        do {
            for try await chunk in response.body { body.writeImmutableBuffer(chunk) }
        } catch {
            failure = error as? PeerFetchError ?? .transferFailed("\(error)")
        }
        return TestResponse(status: response.status, headers: response.headers, body: body, failure: failure)
    }
}

extension HTTPResponse {
    /// Replaces the body, closing the file a `.file` body held (NIO asserts
    /// on a handle dropped open).
    mutating func replaceBody(_ body: Body) {
        if case .file(let handle, _, _) = self.body { try? handle.close() }
        self.body = body
    }
}
