import Testing

@testable import Gossip

/// Members speak only for themselves (docs/security.md): one instance, "me",
/// knows x (pinned to x's key, incarnation 3, holding x's payload of
/// generation 1), a and b; each row brings it one piece of news about x (or
/// a new member) and says whether it is refused as `forged` and what the
/// view holds afterwards. Mallory holds the cluster key and her own signing
/// key, not x's.
@Suite struct KeyPinningTests {
    static func endpoint(_ i: Int) -> SWIM.Endpoint { SWIM.Endpoint(host: "10.0.0.\(i)", port: 7946) }
    static let x = MemberIdentity.named("x")
    static let mallory = MemberIdentity.named("mallory")
    static let wait = SWIM.Settings.lan.gossipToTheDeadTime

    static func record(
        _ name: String = "x", incarnation: SWIM.Incarnation = 4, metadata: SWIM.Metadata = [:], generation: UInt64 = 1,
        endpoint: SWIM.Endpoint = endpoint(2), by signer: MemberIdentity = x
    ) -> SWIM.MemberState {
        signer.signed(
            SWIM.MemberState(
                name: name, endpoint: endpoint, incarnation: incarnation, status: .alive, metadata: metadata,
                payloadGeneration: generation))
    }

    static func payload(_ generation: UInt64, _ bytes: [UInt8], by signer: MemberIdentity = x) -> SWIM.Payload {
        signer.signed(SWIM.Payload(generation: generation, bytes: bytes), owner: "x")
    }

    /// What x is when the news arrives.
    enum Before: Sendable {
        case alive
        case suspect
        /// Declared dead by another member this long ago.
        case dead(for: Duration)
        /// Left (its own signed leave) at incarnation 4.
        case left
    }

    /// How the news arrives.
    enum News: Sendable {
        case gossip([SWIM.Update])
        case pushPull([SWIM.MemberState], payload: SWIM.Payload?)
        case payloadResponse(SWIM.Payload)
    }

    struct Row: Sendable, CustomTestStringConvertible {
        var what: String
        var before: Before = .alive
        var news: News
        var forged: Bool
        /// Holds of the view afterwards.
        var then: @Sendable (SWIM.Instance) -> Bool
        var testDescription: String { what }
    }

    static func key(of name: String, in me: SWIM.Instance) -> [UInt8]? { me.member(named: name)?.publicKey }
    static func xUnchanged(_ me: SWIM.Instance) -> Bool {
        let m = me.member(named: "x")
        return m?.publicKey == x.publicKey && m?.incarnation == 3 && m?.metadata == ["registry": "10.0.0.2:5000"]
            && me.payload(of: "x")?.bytes == [1]
    }

    static let rows: [Row] = [
        Row(
            what: "first record pins the name to its key", news: .gossip([.alive(record("y", incarnation: 0, generation: 0, endpoint: endpoint(9), by: .named("y")))]),
            forged: false, then: { key(of: "y", in: $0) == MemberIdentity.named("y").publicKey }),
        Row(
            what: "first record with a bad signature is refused",
            news: .gossip([.alive({ var s = record("y", incarnation: 0, endpoint: endpoint(9), by: .named("y")); s.incarnation = 1; return s }())]),
            forged: true, then: { $0.member(named: "y") == nil }),
        Row(
            what: "same key, higher incarnation", news: .gossip([.alive(record(metadata: ["registry": "10.0.0.2:5001"]))]),
            forged: false, then: { $0.member(named: "x")?.incarnation == 4 && $0.member(named: "x")?.metadata == ["registry": "10.0.0.2:5001"] }),
        Row(
            what: "metadata rewrite under another key while alive",
            news: .gossip([.alive(record(metadata: ["registry": "10.6.6.6:5000"], by: mallory))]), forged: true, then: xUnchanged),
        Row(
            what: "record carrying x's key, signed by another", news: .gossip([.alive({ var s = record(by: mallory); s.publicKey = x.publicKey; return s }())]),
            forged: true, then: xUnchanged),
        Row(
            what: "record signed by x, then altered (bad signature)",
            news: .gossip([.alive({ var s = record(); s.metadata = ["registry": "10.6.6.6:5000"]; return s }())]), forged: true, then: xUnchanged),
        Row(
            what: "other key while suspect", before: .suspect, news: .gossip([.alive(record(incarnation: 5, by: mallory))]), forged: true,
            then: { $0.member(named: "x")?.status == .suspect && key(of: "x", in: $0) == x.publicKey }),
        Row(
            what: "other key while dead shorter than gossipToTheDeadTime", before: .dead(for: wait - .seconds(1)),
            news: .gossip([.alive(record(incarnation: 5, by: mallory))]), forged: true,
            then: { $0.member(named: "x")?.status == .dead && key(of: "x", in: $0) == x.publicKey }),
        Row(
            what: "x refutes its false death with its own key", before: .dead(for: .seconds(1)),
            news: .gossip([.alive(record(incarnation: 5))]), forged: false,
            then: { $0.member(named: "x")?.status == .alive && $0.member(named: "x")?.incarnation == 5 }),
        Row(
            what: "new key accepted once dead for gossipToTheDeadTime", before: .dead(for: wait),
            news: .gossip([.alive(record(incarnation: 5, by: mallory))]), forged: false,
            then: { $0.member(named: "x")?.status == .alive && key(of: "x", in: $0) == mallory.publicKey && $0.payload(of: "x") == nil }),
        Row(
            what: "new key accepted at once after a signed leave", before: .left,
            news: .gossip([.alive(record(incarnation: 5, by: mallory))]), forged: false,
            then: { $0.member(named: "x")?.status == .alive && key(of: "x", in: $0) == mallory.publicKey }),
        Row(
            what: "leave signed by another key", news: .gossip([.dead(name: "x", incarnation: 4, from: "x", signature: mallory.leaveSignature(name: "x", incarnation: 4))]),
            forged: true, then: { $0.member(named: "x")?.status == .alive }),
        Row(
            what: "unsigned leave", news: .gossip([.dead(name: "x", incarnation: 4, from: "x")]), forged: true,
            then: { $0.member(named: "x")?.status == .alive }),
        Row(
            what: "leave signed at another incarnation", news: .gossip([.dead(name: "x", incarnation: 4, from: "x", signature: x.leaveSignature(name: "x", incarnation: 3))]),
            forged: true, then: { $0.member(named: "x")?.status == .alive }),
        Row(
            what: "leave signed by x", news: .gossip([.dead(name: "x", incarnation: 4, from: "x", signature: x.leaveSignature(name: "x", incarnation: 4))]),
            forged: false, then: { $0.member(named: "x")?.status == .left }),
        Row(
            what: "suspicion by another member stays unsigned", news: .gossip([.suspect(name: "x", incarnation: 3, from: "a")]), forged: false,
            then: { $0.member(named: "x")?.status == .suspect }),
        Row(
            what: "death by another member stays unsigned", news: .gossip([.dead(name: "x", incarnation: 3, from: "a")]), forged: false,
            then: { $0.member(named: "x")?.status == .dead }),
        Row(
            what: "payload signed by another key", news: .payloadResponse(payload(2, [6, 6, 6], by: mallory)), forged: true,
            then: xUnchanged),
        Row(
            what: "payload signed by x, bytes altered", news: .payloadResponse({ var p = payload(2, [2]); p.bytes = [6]; return p }()),
            forged: true, then: xUnchanged),
        Row(
            what: "payload signed by x", news: .payloadResponse(payload(2, [1, 2])), forged: false,
            then: { $0.payload(of: "x")?.bytes == [1, 2] }),
        Row(
            what: "delta whose result x did not sign",
            news: .gossip([.payloadDelta(owner: "x", base: 1, generation: 2, delta: [6], signature: payload(2, [1, 6], by: mallory).signature)]),
            forged: true, then: { xUnchanged($0) && $0.member(named: "x")?.payloadGeneration == 1 }),
        Row(
            what: "delta signed for another result",
            news: .gossip([.payloadDelta(owner: "x", base: 1, generation: 2, delta: [6], signature: payload(2, [1, 2]).signature)]),
            forged: true, then: xUnchanged),
        Row(
            what: "delta whose result x signed",
            news: .gossip([.payloadDelta(owner: "x", base: 1, generation: 2, delta: [2], signature: payload(2, [1, 2]).signature)]),
            forged: false, then: { $0.payload(of: "x")?.bytes == [1, 2] && $0.payload(of: "x")?.generation == 2 }),
        Row(
            what: "push/pull: metadata rewrite under another key",
            news: .pushPull([record(metadata: ["registry": "10.6.6.6:5000"], by: mallory)], payload: nil), forged: true, then: xUnchanged),
        Row(
            what: "push/pull: leave signed by another key",
            news: .pushPull(
                [{ var s = record(by: mallory); s.status = .left; s.signature = mallory.leaveSignature(name: "x", incarnation: 4); return s }()],
                payload: nil),
            forged: true, then: { $0.member(named: "x")?.status == .alive }),
        Row(
            what: "push/pull: x's leave", news: .pushPull(
                [{ var s = record(); s.status = .left; s.signature = x.leaveSignature(name: "x", incarnation: 4); return s }()], payload: nil),
            forged: false, then: { $0.member(named: "x")?.status == .left }),
        Row(
            what: "push/pull: the sender's payload signed by another key, in x's name",
            news: .pushPull([], payload: payload(2, [6, 6], by: mallory)), forged: true, then: xUnchanged),
    ]

    /// "me", knowing x, a and b, with x's payload of generation 1 and an
    /// appending merge for deltas.
    static func instance() -> SWIM.Instance {
        var me = SWIM.Instance(
            settings: .lan, name: "me", endpoint: endpoint(1), identity: .named("me"), hasSeeds: false,
            merge: { base, delta in base + delta }, seed: 7, now: .zero)
        let known: [SWIM.Update] = [
            .alive(record(incarnation: 3, metadata: ["registry": "10.0.0.2:5000"])),
            .alive(record("a", incarnation: 0, generation: 0, endpoint: endpoint(3), by: .named("a"))),
            .alive(record("b", incarnation: 0, generation: 0, endpoint: endpoint(4), by: .named("b"))),
        ]
        _ = me.handle(.packet(SWIM.Packet(.gossip(from: "a"), updates: known), from: endpoint(3)), at: .zero)
        _ = me.handle(.streamReply(.payloadResponse(owner: "x", payload: payload(1, [1])), from: endpoint(2)), at: .zero)
        return me
    }

    static func forged(_ out: [SWIM.Directive]) -> Bool {
        out.contains { if case .notify(.forged) = $0 { true } else { false } }
    }

    @Test(arguments: rows) func news(_ row: Row) {
        var me = Self.instance()
        #expect(Self.xUnchanged(me), "fixture")
        var now = SWIM.Instant.zero
        switch row.before {
        case .alive:
            break
        case .suspect:
            _ = me.handle(.packet(SWIM.Packet(.gossip(from: "a"), updates: [.suspect(name: "x", incarnation: 3, from: "a")]), from: Self.endpoint(3)), at: now)
        case .dead(let elapsed):
            _ = me.handle(.packet(SWIM.Packet(.gossip(from: "a"), updates: [.dead(name: "x", incarnation: 3, from: "a")]), from: Self.endpoint(3)), at: now)
            now = now + elapsed
        case .left:
            let leave = SWIM.Update.dead(name: "x", incarnation: 4, from: "x", signature: Self.x.leaveSignature(name: "x", incarnation: 4))
            let out = me.handle(.packet(SWIM.Packet(.gossip(from: "x"), updates: [leave]), from: Self.endpoint(2)), at: now)
            #expect(!Self.forged(out))
            #expect(me.member(named: "x")?.status == .left, "fixture: x left")
        }
        let out: [SWIM.Directive]
        switch row.news {
        case .gossip(let updates):
            out = me.handle(.packet(SWIM.Packet(.gossip(from: "mallory"), updates: updates), from: Self.endpoint(66)), at: now)
        case .pushPull(let states, let payload):
            let sender = SWIM.Sender(name: "x", endpoint: Self.endpoint(2))
            out = me.handle(.streamRequest(id: 1, .pushPull(join: false, from: sender, members: states, payload: payload), from: Self.endpoint(66)), at: now)
        case .payloadResponse(let payload):
            out = me.handle(.streamReply(.payloadResponse(owner: "x", payload: payload), from: Self.endpoint(66)), at: now)
        }
        #expect(Self.forged(out) == row.forged)
        #expect(row.then(me), "view afterwards: \(String(describing: me.member(named: "x"))), payload \(String(describing: me.payload(of: "x")))")
    }

    /// A delta that does not verify is dropped and the whole payload fetched.
    @Test func unverifiedDeltaFetchesTheWholePayload() throws {
        var me = Self.instance()
        let delta = SWIM.Update.payloadDelta(owner: "x", base: 1, generation: 2, delta: [6], signature: Self.payload(2, [1, 6], by: Self.mallory).signature)
        _ = me.handle(.packet(SWIM.Packet(.gossip(from: "mallory"), updates: [delta]), from: Self.endpoint(66)), at: .zero)
        // The fetch is spread like any other (`Instance+PayloadFetch`): due
        // within the window, then sent to the owner at the next tick.
        let due = try #require(me.payloadFetches.due["x"], "a fetch of x's whole payload is scheduled")
        #expect(due <= .zero + SWIM.Instance.payloadFetchSpread(members: me.groupSize))
        let out = me.handle(.tick, at: due)
        #expect(out.contains { if case .openStream(.payloadRequest(owner: "x", _), to: Self.endpoint(2)) = $0 { true } else { false } })
        #expect(me.pendingBroadcasts == 0 || !me.broadcastsHoldDelta(of: "x"), "a forged delta is not passed on")
    }

    /// Our own records, payloads and leave verify under our key.
    @Test func ownRecordsAreSigned() throws {
        var me = Self.instance()
        #expect(RecordSignature.verifies(alive: me.ownRecord))
        _ = me.handle(.localPayload(SWIM.Payload(generation: 5, bytes: [9]), delta: nil), at: .zero)
        let own = try #require(me.payload(of: "me"))
        #expect(RecordSignature.verifies(payload: own, of: "me", by: MemberIdentity.named("me").publicKey))
        let out = me.handle(.leave, at: .zero)
        let leaves = out.flatMap { d -> [SWIM.Update] in if case .sendPacket(let p, _) = d { p.updates } else { [] } }
        #expect(leaves.contains { u in
            if case .dead("me", let incarnation, "me", let signature) = u {
                RecordSignature.verifies(leaveOf: "me", incarnation: incarnation, signature: signature, by: MemberIdentity.named("me").publicKey)
            } else { false }
        })
    }

    /// Pings name the key of the life they are for.
    @Test(arguments: [(UInt64?.none, true), (UInt64(0), false), (UInt64(42), false)])
    func pingsForAnotherLifeAreNotAnswered(key: UInt64?, answered: Bool) {
        var me = Self.instance()
        let targetKey = key ?? MemberIdentity.named("me").keyID
        let ping = SWIM.Packet(.ping(sequence: 9, target: "me", targetKey: targetKey, from: SWIM.Sender(name: "a", endpoint: Self.endpoint(3))))
        let out = me.handle(.packet(ping, from: Self.endpoint(3)), at: .zero)
        let acked = out.contains { if case .sendPacket(let p, _) = $0, case .ack(9, _) = p.message { true } else { false } }
        #expect(acked == answered)
    }
}

extension SWIM.Instance {
    /// Whether a payload delta of `owner` waits in the broadcast queue (tests).
    fileprivate func broadcastsHoldDelta(of owner: String) -> Bool {
        var copy = broadcasts
        return copy.take(budget: 1 << 20, limit: 100).contains { if case .payloadDelta(owner, _, _, _, _) = $0 { true } else { false } }
    }
}
