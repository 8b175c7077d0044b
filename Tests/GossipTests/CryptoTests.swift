import Testing

@testable import Gossip

@Suite struct CryptoTests {
    let k1 = ClusterKey.generate()
    let k2 = ClusterKey.generate()

    @Test func sealOpenRoundTrip() throws {
        let keyring = try Keyring([k1])
        let envelope = Envelope(label: "test")
        let body: [UInt8] = Array("hello gossip".utf8)
        let sealed = envelope.seal(body, with: keyring, timestamp: 1234)
        #expect(sealed.count == body.count + Envelope.overhead)
        #expect(Envelope.overhead <= WireCodec.envelopeReserve)
        let opened = try envelope.open(sealed, with: keyring)
        #expect(opened.body == body)
        #expect(opened.timestamp == 1234)
        #expect(opened.key == k1)
        // Random nonces: sealing twice gives different bytes.
        #expect(envelope.seal(body, with: keyring, timestamp: 1234) != sealed)
    }

    @Test func wrongKeyOrLabelDoesNotOpen() throws {
        let sealed = Envelope(label: "a").seal([1, 2, 3], with: try Keyring([k1]), timestamp: 1)
        #expect(throws: Envelope.OpenError.authenticationFailed) { try Envelope(label: "a").open(sealed, with: try Keyring([k2])) }
        #expect(throws: Envelope.OpenError.authenticationFailed) { try Envelope(label: "b").open(sealed, with: try Keyring([k1])) }
    }

    @Test func tamperingIsDetected() throws {
        let keyring = try Keyring([k1])
        let envelope = Envelope(label: "t")
        let sealed = envelope.seal(Array(repeating: 5, count: 64), with: keyring, timestamp: 99)
        for i in 0..<sealed.count {
            var tampered = sealed
            tampered[i] ^= 0x01
            #expect(throws: Envelope.OpenError.self) { try envelope.open(tampered, with: keyring) }
        }
        for length in 0..<sealed.count {
            #expect(throws: Envelope.OpenError.self) { try envelope.open(Array(sealed.prefix(length)), with: keyring) }
        }
    }

    @Test func keyringRotation() throws {
        let envelope = Envelope(label: "rot")
        var old = try Keyring([k1])
        // Install: the new key opens but the old one still seals.
        old.install(k2)
        let sealedOld = envelope.seal([1], with: old, timestamp: 1)
        #expect(try envelope.open(sealedOld, with: try Keyring([k1])).key == k1)
        // Use: the new key seals; nodes that only installed it still open.
        try old.use(k2)
        let sealedNew = envelope.seal([2], with: old, timestamp: 2)
        var installedOnly = try Keyring([k1])
        installedOnly.install(k2)
        #expect(try envelope.open(sealedNew, with: installedOnly).key == k2)
        // Remove the old key: its messages no longer open.
        #expect(throws: Keyring.Error.removingPrimary) { try old.remove(k2) }
        try old.remove(k1)
        #expect(old.keys == [k2])
        #expect(throws: Envelope.OpenError.authenticationFailed) { try envelope.open(sealedOld, with: old) }
        #expect(throws: Keyring.Error.empty) { try Keyring([]) }
    }

    @Test func keyParsing() throws {
        let text = k1.base64 + "\n"
        #expect(try ClusterKey(base64: text) == k1)
        #expect(throws: ClusterKey.ParseError.notBase64) { try ClusterKey(base64: "not base64!") }
        #expect(throws: ClusterKey.ParseError.wrongLength(16)) { try ClusterKey(bytes: [UInt8](repeating: 0, count: 16)) }
        #expect(!k1.description.contains(k1.base64), "descriptions must not leak key material")
        #expect(k1.derive("registry-token") != k1.derive("other"))
        #expect(k1.derive("registry-token") == k1.derive("registry-token"))
    }

    private func verdict(_ g: inout ReplayGuard, timestamp: UInt64, nonce: [UInt8], now: UInt64) -> ReplayGuard.Verdict {
        g.check(timestamp: timestamp, nonce: nonce, now: now)
    }

    @Test func replayGuard() {
        var guardian = ReplayGuard(windowMilliseconds: 1_000)
        let nonce: [UInt8] = [1, 2, 3]
        #expect(verdict(&guardian, timestamp: 10_000, nonce: nonce, now: 10_000) == .fresh)
        #expect(verdict(&guardian, timestamp: 10_000, nonce: nonce, now: 10_100) == .replayed)
        #expect(verdict(&guardian, timestamp: 8_000, nonce: [4], now: 10_100) == .stale)
        #expect(verdict(&guardian, timestamp: 12_000, nonce: [5], now: 10_100) == .stale)
        // Still remembered across one rotation, for as long as its timestamp is acceptable.
        #expect(verdict(&guardian, timestamp: 11_500, nonce: [6], now: 11_900) == .fresh)
        #expect(verdict(&guardian, timestamp: 11_500, nonce: [6], now: 12_100) == .replayed)
        // Long after, the old generations are gone and memory is bounded.
        #expect(verdict(&guardian, timestamp: 100_000, nonce: [7], now: 100_000) == .fresh)
        #expect(guardian.remembered == 1)
    }

    /// A hostile sealed timestamp (any UInt64) or clock cannot overflow the
    /// window arithmetic (`timestamp + window` used to trap near UInt64.max).
    @Test func replayGuardSurvivesHostileTimestamps() {
        let rows: [(timestamp: UInt64, now: UInt64)] = [
            (.max, 1_000), (.max - 5, 0), (0, .max), (.max, .max - 200_000), (1, 0),
        ]
        var guardian = ReplayGuard(windowMilliseconds: 120_000)
        for row in rows {
            #expect(verdict(&guardian, timestamp: row.timestamp, nonce: [9], now: row.now) == (row.timestamp == 1 ? .fresh : .stale), "\(row)")
        }
        // A window so wide that doubling it overflows: rotation saturates.
        var wide = ReplayGuard(windowMilliseconds: .max)
        #expect(verdict(&wide, timestamp: .max, nonce: [1], now: 0) == .fresh)
        #expect(verdict(&wide, timestamp: 0, nonce: [1], now: 1) == .replayed)
    }

    /// What a restarted node saw before it started must not become fresh
    /// again (issue 9, finding 10): the nonces of its previous life are
    /// forgotten, so anything stamped before its start is refused.
    @Test func messagesStampedBeforeTheNodeStartedAreRefused() {
        let start: UInt64 = 1_000_000
        var guardian = ReplayGuard(windowMilliseconds: 120_000, notBefore: start)
        // Captured 10 s before the restart, replayed 1 s after: within the window, but older than the node.
        #expect(verdict(&guardian, timestamp: start - 10_000, nonce: [1], now: start + 1_000) == .beforeStart)
        #expect(verdict(&guardian, timestamp: start - 1, nonce: [2], now: start) == .beforeStart)
        #expect(verdict(&guardian, timestamp: start, nonce: [3], now: start) == .fresh)
        #expect(verdict(&guardian, timestamp: start + 5, nonce: [4], now: start + 10) == .fresh)
        // Stale still wins for what is also outside the window.
        #expect(verdict(&guardian, timestamp: start - 500_000, nonce: [5], now: start) == .stale)
        #expect(guardian.remembered == 2, "refused messages are not remembered")
    }
}
