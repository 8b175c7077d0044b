/// How a `GossipNode` reaches other members: datagrams for probes and gossip,
/// framed streams for joins, push/pull and payloads. A transport only moves
/// bytes; the node seals, opens, admits and decodes them. As memberlist keeps
/// its `Transport` interface with a network and an in-memory implementation,
/// there are two: `NIOTransport` (UDP and TCP sockets) and
/// `InMemoryTransport` (a test network without sockets, so that unit tests
/// run real nodes).
protocol GossipTransport: Sendable {
    /// The address to advertise when the configuration names none.
    func defaultAdvertiseAddress() throws -> SWIM.Endpoint

    /// Binds, then runs `body` while serving: every datagram and every
    /// inbound connection goes to `receiver` (each connection in a child task
    /// of its own) until `body` returns; then everything is closed. Throws
    /// `TransportBindError` (before `body` runs) when binding fails.
    func run(receiver: any TransportReceiver, _ body: @escaping @Sendable () async throws -> Void) async throws

    /// Sends one datagram without waiting; nil if it went out, else why it
    /// was lost (it is one lost packet, as UDP may lose any).
    func send(_ datagram: [UInt8], to endpoint: SWIM.Endpoint) -> DatagramLost?

    /// Connects to `endpoint` within `timeout`.
    func connect(to endpoint: SWIM.Endpoint, timeout: Duration) async throws -> any GossipConnection
}

/// What a transport delivers to (the node).
protocol TransportReceiver: Sendable {
    func receive(_ datagram: [UInt8], from source: SWIM.Endpoint) async
    /// An inbound connection, not yet read from. The receiver serves or
    /// closes it; the transport closes it anyway once this returns.
    func accept(_ connection: any GossipConnection) async
    /// The datagram socket was closed by an error and opened again.
    func datagramSocketReopened() async
}

/// A connection carrying frames both ways, inbound or outbound.
protocol GossipConnection: Sendable {
    /// The other end's address (for inbound connections, its source).
    var remote: SWIM.Endpoint { get }
    /// Runs `body` with the connection's frames, then closes it. Call once.
    func withFrames<T: Sendable>(_ body: (inout any FrameStream) async throws -> T) async throws -> T
    /// Closes the connection without reading from it.
    func close() async
}

/// The frames of one connection, valid inside `GossipConnection.withFrames`.
protocol FrameStream {
    /// The next frame; nil once the other end has closed its side.
    mutating func receive() async throws -> [UInt8]?
    /// Sends frames in order.
    mutating func send(_ frames: [[UInt8]]) async throws
}

/// A datagram that did not go out (`errno`-like code from the system, or
/// none for an unknown destination).
struct DatagramLost: Error, Sendable, CustomStringConvertible {
    var code: Int32?
    var reason: String
    var description: String { code.map { "\(reason) (errno \($0))" } ?? reason }
}

/// Binding the transport failed: `what` names the protocol and address.
struct TransportBindError: Error, Sendable {
    var what: String
    var underlying: any Error
}

/// `withFrames` or `close` was called on a connection already used.
struct ConnectionAlreadyUsed: Error, CustomStringConvertible {
    var description: String { "the connection was already used or closed" }
}
