import Metrics
import Synchronization

/// The registry front's metrics: Prometheus series through swift-metrics,
/// and the same counts kept here for `/status.json` and tests.
public final class RegistryMetrics: Sendable {
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

    private let counts = Mutex(Counts())
    private let requests: [Outcome: Counter] = Dictionary(
        uniqueKeysWithValues: Outcome.allCases.map {
            ($0, Counter(label: "registry_requests_total", dimensions: [("outcome", $0.rawValue)]))
        })
    private let localBytes = Counter(label: "registry_bytes_total", dimensions: [("source", "local")])
    private let peerBytes = Counter(label: "registry_bytes_total", dimensions: [("source", "peer")])
    private let resolve = Timer(label: "registry_resolve_seconds", preferredDisplayUnit: .seconds)
    private let verificationFailures = Counter(label: "registry_verification_failures_total")
    private let rejectedTokens = Counter(label: "registry_rejected_tokens_total")
    private let peerFailures = Counter(label: "registry_peer_failures_total")
    private let hedges = Counter(label: "registry_peer_hedges_total")

    public init() {}

    public var snapshot: Counts { counts.withLock { $0 } }

    func count(_ outcome: Outcome) {
        requests[outcome]?.increment()
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

    /// A holder was slow to send its response head, so the next was asked too.
    func hedged() {
        hedges.increment()
        counts.withLock { $0.hedges += 1 }
    }
}
