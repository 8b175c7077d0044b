/// Which inbound gossip streams are served: at most `maximumInbound` at once,
/// at most `maximumPerAddress` of them from one source address.
///
/// A connection is admitted before anything is read from it, so the caps
/// bound what unauthenticated peers can make the node hold (descriptors,
/// frame buffers, tasks): one address at most its share, a crowd of
/// addresses at most the global cap. Connections beyond are closed at once.
/// Legitimate load is far below: a member opens at most a few streams to
/// another at a time (push/pull, a payload fetch, a join), and a refused
/// stream is retried by the protocol (the next push/pull, the next
/// generation notice).
struct StreamAdmission: Sendable {
    let maximumInbound: Int
    let maximumPerAddress: Int
    /// Streams being served.
    private(set) var open = 0
    private var perAddress: [String: Int] = [:]

    init(maximumInbound: Int, maximumPerAddress: Int) {
        self.maximumInbound = max(1, maximumInbound)
        self.maximumPerAddress = max(1, maximumPerAddress)
    }

    /// Admits a stream from `address` (an IP address without port) if both
    /// caps allow; every admitted stream must be `release`d.
    mutating func admit(_ address: String) -> Bool {
        let fromAddress = perAddress[address, default: 0]
        guard open < maximumInbound, fromAddress < maximumPerAddress else { return false }
        open += 1
        perAddress[address] = fromAddress + 1
        return true
    }

    mutating func release(_ address: String) {
        guard let count = perAddress[address] else { return }
        perAddress[address] = count > 1 ? count - 1 : nil
        open -= 1
    }

    /// Streams being served from `address`.
    func open(from address: String) -> Int { perAddress[address, default: 0] }
}
