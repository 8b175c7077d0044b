/// The node's trust boundary, as one value: everything sent is sealed with
/// the keyring's primary key (`Envelope`), everything received must open
/// with an installed key and be fresh (`ReplayGuard`), or it is refused with
/// a `Rejection`. Owned by the `GossipNode` actor, which passes the wall
/// clock in, so that this stays a plain value.
struct MessageSecurity: Sendable {
    let envelope: Envelope
    var keyring: Keyring
    private var replayGuard: ReplayGuard

    /// - Parameters:
    ///   - label: the cluster label bound into every sealed message.
    ///   - replayWindowMilliseconds: accepted clock difference between members.
    ///   - notBefore: wall time (ms) before which nothing is accepted: the node's start.
    init(label: String, keyring: Keyring, replayWindowMilliseconds: UInt64, notBefore: UInt64) {
        self.envelope = Envelope(label: label)
        self.keyring = keyring
        self.replayGuard = ReplayGuard(windowMilliseconds: replayWindowMilliseconds, notBefore: notBefore)
    }

    /// Seals one datagram or stream chunk, stamped `wallClock` (ms).
    func seal(_ body: [UInt8], at wallClock: UInt64) -> [UInt8] {
        envelope.seal(body, with: keyring, timestamp: wallClock)
    }

    /// A stream message as sealed chunk frames (`StreamChunk`); nil when it is
    /// over `WireCodec.maximumStreamMessageSize`, which no member accepts.
    func sealChunks(_ message: [UInt8], direction: StreamChunk.Direction, streamID: UInt64, at wallClock: UInt64)
        -> [[UInt8]]?
    {
        guard !message.isEmpty, message.count <= WireCodec.maximumStreamMessageSize else { return nil }
        return StreamChunk.split(message, direction: direction, streamID: streamID).map { seal($0, at: wallClock) }
    }

    /// Opens a sealed datagram or chunk received at `wallClock` (ms) and
    /// checks that it is fresh.
    mutating func open(_ sealed: [UInt8], at wallClock: UInt64) throws(Rejection) -> [UInt8] {
        let opened: Envelope.Opened
        do { opened = try envelope.open(sealed, with: keyring) } catch { throw .unauthenticated(error) }
        switch replayGuard.check(timestamp: opened.timestamp, nonce: opened.nonce, now: wallClock) {
        case .fresh: return opened.body
        case .stale: throw .stale
        case .beforeStart: throw .beforeStart
        case .replayed: throw .replayed
        }
    }
}
