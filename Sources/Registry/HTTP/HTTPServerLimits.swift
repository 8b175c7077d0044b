import Synchronization

/// What one client may hold of an `HTTPServer` (issue 9, finding 7): without
/// these, half-sent request heads stayed open indefinitely, and enough of
/// them exhausted the process's file descriptors, after which gossip and
/// pulls failed too.
///
/// Loopback connections (the node's own containerd) are neither counted nor
/// refused: a remote client must never lock the node out of its own mirror.
public struct HTTPServerLimits: Sendable, Hashable {
    /// From accepting a connection, or from the first byte of a later request
    /// on a kept-alive one, until that request has been read whole. A pull
    /// API request is one short head: 10 s is generous on any network, and
    /// short enough that slowly trickled heads (slowloris) cost little.
    public var headerTimeout: Duration
    /// How long a kept-alive connection may wait for its next request.
    /// 60 s is longer than the clients' own idle timeouts (containerd's Go
    /// transport closes idle connections after 30 s; the peer fetcher after
    /// `PeerFetcher.maximumConnectionAge`), so they, not we, close first and
    /// never race a request against our close.
    public var idleTimeout: Duration
    /// Connections open at once from all non-loopback addresses together;
    /// more are closed as soon as they are accepted. 1024 leaves ample room
    /// below the descriptor limit the node raises itself to at start.
    public var maxConnections: Int
    /// Connections open at once from any one non-loopback address. A peer
    /// node keeps a handful (the fetcher pools keep-alive connections); 128
    /// lets one address use an eighth of `maxConnections`, so a single host
    /// cannot take the whole budget.
    public var maxConnectionsPerAddress: Int

    public init(
        headerTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(60), maxConnections: Int = 1024,
        maxConnectionsPerAddress: Int = 128
    ) {
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
    }
}

/// Counts open connections per address against `HTTPServerLimits`.
final class ConnectionLimiter: Sendable {
    private struct State {
        var total = 0
        var perAddress: [String: Int] = [:]
    }

    private let state = Mutex(State())
    let limits: HTTPServerLimits

    init(_ limits: HTTPServerLimits) {
        self.limits = limits
    }

    /// Takes a slot for a connection from `address`; false if none is free.
    func admit(_ address: String) -> Bool {
        state.withLock { s in
            let mine = s.perAddress[address, default: 0]
            guard s.total < limits.maxConnections, mine < limits.maxConnectionsPerAddress else { return false }
            s.total += 1
            s.perAddress[address] = mine + 1
            return true
        }
    }

    /// Gives back the slot of a connection from `address` that has closed.
    func release(_ address: String) {
        state.withLock { s in
            s.total -= 1
            let mine = s.perAddress[address, default: 1] - 1
            s.perAddress[address] = mine > 0 ? mine : nil
        }
    }

    /// Connections counted now (loopback ones are not).
    var open: Int { state.withLock { $0.total } }
}
