import Gossip
import Logging
import Metrics
import Synchronization

/// The registry front's metrics: Prometheus series through swift-metrics,
/// and the same counts kept here for `/status.json` and tests.
///
/// Every request the registry port answers is one observation of
/// `gossip_mirror_registry_request_duration_seconds` (as an
/// `HTTPExchangeObserver`), labelled by upstream registry, kind, source and
/// status class, so hit ratios by registry and kind come from its `_count`.
public final class RegistryMetrics: HTTPExchangeObserver, Sendable {
    public enum Outcome: String, Sendable, CaseIterable, Codable { case local, peer, miss, error }

    /// Counts since start.
    public struct Counts: Sendable, Codable, Hashable {
        public var requests: [String: Int] = [:]
        public var localBytes: Int64 = 0
        public var peerBytes: Int64 = 0
        public var verificationFailures = 0
        public var rejectedTokens = 0
        public var peerFailures = 0
        /// Requests whose first holder was slow to answer, so a second was asked too.
        public var hedges = 0
        /// The longest time any miss (404) took to decide, in microseconds.
        public var slowestMissMicroseconds: Int64 = 0

        public init() {}
    }

    /// The `# HELP` text of each metric, by name.
    public static let descriptions: [String: String] = [
        "gossip_mirror_registry_request_duration_seconds":
            "Registry requests, from the request to the last byte written, by upstream registry, kind (manifest, blob, base, other), "
            + "source (local, peer, miss, none) and status class.",
        "gossip_mirror_registry_served_bytes_total": "Body bytes served, by source: this node's store (local) or relayed from a peer.",
        "gossip_mirror_registry_relays_in_flight": "Responses being relayed from a peer right now.",
        "gossip_mirror_registry_resolve_duration_seconds": "Time to decide where a request is answered from (local, peer or miss).",
        "gossip_mirror_registry_verification_failures_total": "Transfers from peers whose bytes did not match their digest.",
        "gossip_mirror_registry_rejected_tokens_total": "Requests from other hosts without a valid cluster token.",
        "gossip_mirror_registry_peer_failures_total": "Peer transfers that failed (refused, timed out, stalled).",
        "gossip_mirror_registry_peer_hedges_total": "Blob requests also sent to a second holder because the first was slow to answer.",
    ]

    /// Distinct `registry` label values kept; later ones are `other`, so a
    /// client cannot grow the series without bound with made-up `?ns=` values.
    public static let maximumRegistryLabels = 32

    private let counts = Mutex(Counts())
    private let localBytes = Counter(label: "gossip_mirror_registry_served_bytes_total", dimensions: [("source", "local")])
    private let peerBytes = Counter(label: "gossip_mirror_registry_served_bytes_total", dimensions: [("source", "peer")])
    private let relaysInFlight = Gauge(label: "gossip_mirror_registry_relays_in_flight")
    private let inFlight = Mutex(0)
    private let resolve = Timer(label: "gossip_mirror_registry_resolve_duration_seconds", preferredDisplayUnit: .seconds)
    private let verificationFailures = Counter(label: "gossip_mirror_registry_verification_failures_total")
    private let rejectedTokens = Counter(label: "gossip_mirror_registry_rejected_tokens_total")
    private let peerFailures = Counter(label: "gossip_mirror_registry_peer_failures_total")
    private let requestTimers = Mutex<[RequestLabels: Timer]>([:])
    private let registryLabels = Mutex<Set<String>>([])
    private let hedges = Counter(label: "gossip_mirror_registry_peer_hedges_total")

    public init() {}

    public var snapshot: Counts { counts.withLock { $0 } }

    func count(_ outcome: Outcome) {
        counts.withLock { $0.requests[outcome.rawValue, default: 0] += 1 }
    }

    func served(localBytes n: Int64) {
        localBytes.increment(by: Int(n))
        counts.withLock { $0.localBytes += n }
    }

    func served(peerBytes n: Int64) {
        peerBytes.increment(by: Int(n))
        counts.withLock { $0.peerBytes += n }
    }

    /// Time to decide where a request is answered from (local, peer, miss).
    func resolved(in duration: Duration) { resolve.recordNanoseconds(duration.nanoseconds) }

    /// A miss, and how long it took to decide.
    func missed(in duration: Duration) {
        resolved(in: duration)
        count(.miss)
        let micros = duration.nanoseconds / 1000
        counts.withLock { $0.slowestMissMicroseconds = max($0.slowestMissMicroseconds, micros) }
    }

    public func verificationFailed() {
        verificationFailures.increment()
        counts.withLock { $0.verificationFailures += 1 }
    }

    func tokenRejected() {
        rejectedTokens.increment()
        counts.withLock { $0.rejectedTokens += 1 }
    }

    public func peerFailed() {
        peerFailures.increment()
        counts.withLock { $0.peerFailures += 1 }
    }

    // MARK: Requests (HTTPExchangeObserver)

    /// The labels of one request series.
    struct RequestLabels: Hashable {
        var registry: String
        var kind: String
        var source: String
        var statusClass: String
    }

    public func responseStarted(_ request: HTTPRequest, _ response: HTTPResponse) {
        guard Self.isRelay(response.logMetadata["source"]), request.method != .HEAD else { return }
        relaysInFlight.record(inFlight.withLock { $0 += 1; return $0 })
    }

    public func exchangeFinished(_ exchange: HTTPExchange) {
        if Self.isRelay(exchange.metadata["source"]), exchange.request.method != .HEAD {
            relaysInFlight.record(inFlight.withLock { $0 -= 1; return $0 })
        }
        let labels = RequestLabels(
            registry: registryLabel(exchange.request.query["ns"]), kind: Self.kind(of: exchange.request.path),
            source: exchange.annotation("source") ?? "none", statusClass: "\(exchange.status.code / 100)xx")
        let timer = requestTimers.withLock { timers in
            if let timer = timers[labels] { return timer }
            let timer = Timer(
                label: "gossip_mirror_registry_request_duration_seconds",
                dimensions: [
                    ("registry", labels.registry), ("kind", labels.kind), ("source", labels.source), ("status_class", labels.statusClass),
                ], preferredDisplayUnit: .seconds)
            timers[labels] = timer
            return timer
        }
        timer.recordNanoseconds(exchange.duration.nanoseconds)
    }

    static func isRelay(_ source: Logger.MetadataValue?) -> Bool {
        if case .string("peer") = source { return true }
        return false
    }

    /// `manifest`, `blob`, `base` (`/v2/`) or `other`, from the raw path.
    static func kind(of path: Substring) -> String {
        if path.contains("/manifests/") { return "manifest" }
        if path.contains("/blobs/") { return "blob" }
        if path == "/v2/" || path == "/v2" { return "base" }
        return "other"
    }

    /// The upstream registry (`?ns=`, Docker Hub without it), `invalid`, or
    /// `other` once `maximumRegistryLabels` distinct ones have been seen.
    func registryLabel(_ ns: String?) -> String {
        guard let registry = try? RegistryRoute.registry(fromNamespace: ns) else { return "invalid" }
        return registryLabels.withLock { seen in
            if seen.contains(registry) { return registry }
            guard seen.count < Self.maximumRegistryLabels else { return "other" }
            seen.insert(registry)
            return registry
        }
    }

    /// A holder was slow to send its response head, so the next was asked too.
    func hedged() {
        hedges.increment()
        counts.withLock { $0.hedges += 1 }
    }
}
