import Catalog
import Foundation
import Gossip
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

@testable import Registry

/// A whole registry front in process: an OCI-layout store and its catalog,
/// the handler with its peer router, and an `HTTPServer` on 127.0.0.1 (port
/// chosen by the kernel). No containerd, no subprocess.
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
    let router: PeerRouter
    let metrics: RegistryMetrics
    var peers: PeerDirectory { router.directory }
    var credentials: PeerCredentials { router.credentials }
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
        name: String, port: Int, catalog: LocalCatalog, router: PeerRouter, metrics: RegistryMetrics, task: Task<Void, any Error>,
        seen: Recorder
    ) {
        self.name = name
        self.port = port
        self.catalog = catalog
        self.router = router
        self.metrics = metrics
        self.task = task
        self.seen = seen
    }

    deinit { task.cancel() }

    func stop() { task.cancel() }

    /// Silent, unless GM_TEST_LOG is set (then debug lines on stderr).
    static let quiet = Logger(label: "test-node") { label in
        guard ProcessInfo.processInfo.environment["GM_TEST_LOG"] != nil else { return SwiftLogNoOpLogHandler() }
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = .debug
        return handler
    }

    /// Starts a node serving `layout` (an empty layout when nil, made in `scratch`).
    static func start(
        _ name: String, key: ClusterKey, layout: String?, scratch: String,
        configuration: RegistryHandler.Configuration = .init(), settings: PeerRouterSettings = .forTests, tokenWindow: Int64 = 120,
        limits: HTTPServerLimits = .init(), delay: Duration? = nil, intercept: Intercept? = nil, reseal: Bool = true
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
        let credentials = PeerCredentials(nodeName: name, window: tokenWindow) { [key] }
        let metrics = RegistryMetrics()
        let router = PeerRouter(credentials: credentials, settings: settings, metrics: metrics, logger: quiet)
        let handler = RegistryHandler(
            catalog: catalog, store: store, router: router, metrics: metrics, configuration: configuration, logger: quiet)
        let seen = Recorder()
        let seal = PeerAnswerSeal(credentials: credentials)
        let front = FetchTestHandler { request in
            seen.requests.withLock { $0.append(request) }
            if let delay { try? await Task.sleep(for: delay) }
            var response = await handler.handle(request)
            if let intercept {
                response = await intercept(request, response)
                if reseal, let token = request.headers.first(name: PeerCredentials.tokenHeader) {
                    await response.seal(with: seal, token: token, method: request.method.rawValue, target: request.uri)
                }
            }
            return response
        }
        let (port, task) = try await startTestServer(
            HTTPServer(host: "127.0.0.1", port: 0, handler: front, logger: quiet, limits: limits))
        return TestNode(name: name, port: port, catalog: catalog, router: router, metrics: metrics, task: task, seen: seen)
    }

    /// A member that is not a running node: its registry address and whose
    /// summary it advertises.
    struct Ghost: Sendable {
        var name: String
        var registryAddress: String
        var claims: TestNode
    }

    /// Makes every node know every other as an alive member with its
    /// registry address and summary (what gossip would tell it). `claims`
    /// makes a node advertise another's summary (it then answers 404 for
    /// what it does not hold: a Bloom false positive); `ghosts` are members
    /// with nothing behind their address.
    static func link(
        _ nodes: [TestNode], rtt: [String: Duration] = [:], claims: [String: TestNode] = [:], ghosts: [Ghost] = []
    ) async {
        var members: [SWIM.Member] = []
        func member(_ name: String, _ address: String) -> SWIM.Member {
            SWIM.Member(
                name: name, endpoint: .init(host: "127.0.0.1", port: 7946), incarnation: 1, status: .alive,
                metadata: ["registry": address], roundTripTime: rtt[name])
        }
        for node in nodes { members.append(member(node.name, node.registryAddress)) }
        for ghost in ghosts { members.append(member(ghost.name, ghost.registryAddress)) }
        for node in nodes {
            node.peers.update(members: members)
            for other in nodes where other.name != node.name {
                node.peers.setSummary(of: other.name, bytes: await (claims[other.name] ?? other).catalog.summary)
            }
            for ghost in ghosts { node.peers.setSummary(of: ghost.name, bytes: await ghost.claims.catalog.summary) }
        }
    }

    /// Requests this node received for `path` (with its query).
    func requests(for path: String) -> [HTTPRequest] { requests.filter { $0.uri == path } }
}

extension PeerRouterSettings {
    /// As shipped, but with connect and stall limits that a starved test
    /// process cannot overrun (libcurl checks its connect timeout before it
    /// notices a finished loopback connect, and a handler delayed seconds on
    /// a saturated machine looks like a stalled holder); a refused connection
    /// still fails at once. No row tests those limits.
    static var forTests: PeerRouterSettings {
        var settings = PeerRouterSettings()
        settings.connectTimeout = .seconds(5)
        settings.lowSpeedTime = .seconds(30)
        return settings
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
