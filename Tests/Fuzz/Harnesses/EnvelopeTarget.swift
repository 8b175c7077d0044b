import Gossip

/// The gossip envelope, as a host without the key and a member with it see it.
///
/// Mode 0 (no key): arbitrary bytes given to `Envelope.open` must be refused
/// (opening one would be a forgery). Mode 1 (with the key): a body sealed at
/// any timestamp opens to the same body, timestamp and key; with another
/// label, or with any byte changed, it does not open; and `ReplayGuard`
/// calls it fresh exactly when the timestamp is within the window of `now`,
/// then replayed (or stale) the second time.
extension FuzzTarget {
    static let envelope = FuzzTarget(
        name: "envelope",
        summary: "Envelope.open of arbitrary bytes; seal/open round trip, tampering and ReplayGuard at any timestamp",
        seeds: EnvelopeFuzzing.seeds,
        run: EnvelopeFuzzing.run)
}

enum EnvelopeFuzzing {
    static let keys = [
        try! ClusterKey(bytes: Array(0..<32)),
        try! ClusterKey(bytes: Array(repeating: 0xA5, count: 32)),
    ]
    static let envelope = Envelope(label: "fuzz")
    static let otherLabel = Envelope(label: "fuzz-other")

    static func run(_ bytes: [UInt8]) throws(PropertyViolation) {
        var input = FuzzInput(bytes)
        let keyring = try! Keyring(keys)
        switch input.byte() % 2 {
        case 0:
            let sealed = input.rest()
            if let opened = try? envelope.open(sealed, with: keyring) {
                throw PropertyViolation("arbitrary bytes opened without the key: \(opened.body.count) body bytes")
            }
        default:
            try sealAndOpen(&input)
        }
    }

    private static func sealAndOpen(_ input: inout FuzzInput) throws(PropertyViolation) {
        let primary = keys[Int(input.byte()) % keys.count]
        var sealing = try! Keyring(keys)
        try! sealing.use(primary)
        let timestamp = input.integer(UInt64.self)
        let now = input.integer(UInt64.self)
        let tamperAt = Int(input.integer(UInt16.self))
        let tamperMask = input.byte()
        let body = input.rest()

        let sealed = envelope.seal(body, with: sealing, timestamp: timestamp)
        try require(sealed.count == body.count + Envelope.overhead, "sealing added \(sealed.count - body.count) bytes")
        let opened: Envelope.Opened
        do { opened = try envelope.open(sealed, with: try! Keyring(keys.reversed())) } catch {
            throw PropertyViolation("a sealed message did not open: \(error)")
        }
        try require(opened.body == body, "opened body differs from the sealed one")
        try require(opened.timestamp == timestamp, "timestamp \(timestamp) opened as \(opened.timestamp)")
        try require(opened.key == primary, "opened with another key than the one that sealed")
        try require((try? otherLabel.open(sealed, with: sealing)) == nil, "a message of another cluster label opened")

        if tamperMask != 0 {
            var tampered = sealed
            tampered[tamperAt % tampered.count] ^= tamperMask
            try require((try? envelope.open(tampered, with: sealing)) == nil, "a tampered message opened (byte \(tamperAt % tampered.count))")
        }

        var guardian = ReplayGuard()
        let window = guardian.window
        let distance = timestamp > now ? timestamp - now : now - timestamp
        let first = guardian.check(timestamp: timestamp, nonce: opened.nonce, now: now)
        try require(first == (distance <= window ? .fresh : .stale), "timestamp \(timestamp) at \(now): \(first)")
        let second = guardian.check(timestamp: timestamp, nonce: opened.nonce, now: now)
        try require(second == (distance <= window ? .replayed : .stale), "the same message again: \(second)")
    }

    static func seeds() -> [[UInt8]] {
        var seeds: [[UInt8]] = []
        // A message sealed with a key the harness does not hold, to mutate.
        let stranger = try! Keyring([ClusterKey(bytes: Array(repeating: 0x5A, count: 32))])
        let sealed = envelope.seal(Array("ping".utf8), with: stranger, timestamp: 1_700_000_000_000)
        seeds.append([0] + sealed)
        // Sealing at timestamps at and around the window's edges, and at the extremes.
        for (timestamp, now): (UInt64, UInt64) in [
            (1_700_000_000_000, 1_700_000_000_000), (1_700_000_000_000, 1_700_000_120_000),
            (1_700_000_000_000, 1_700_000_120_001), (0, 120_000), (.max, .max), (.max - 1, 5), (5, .max),
        ] {
            var builder = FuzzInput.Builder()
            builder.byte(1)
            builder.byte(0)
            builder.integer(timestamp)
            builder.integer(now)
            builder.integer(UInt16(3))
            builder.byte(0x01)
            builder.raw(Array("gossip".utf8))
            seeds.append(builder.bytes)
        }
        return seeds
    }
}
