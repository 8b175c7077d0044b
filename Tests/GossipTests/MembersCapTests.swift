import Testing

@testable import Gossip

/// `SWIM.Limits.maximumMembers` on one instance fed by hand: "me" with a cap
/// of four members (itself included) that knows m1, m2 and m3 after the
/// first packet, so it starts at the cap. News of further members is
/// dropped and reported; news of known members is not.
@Suite struct MembersCapTests {
    static func endpoint(_ i: Int) -> SWIM.Endpoint { SWIM.Endpoint(host: "10.0.0.\(i)", port: 7946) }
    static let cap = 4

    static func state(_ i: Int, incarnation: SWIM.Incarnation = 0, status: SWIM.Status = .alive) -> SWIM.MemberState {
        var s = MemberIdentity.named("m\(i)").signed(
            SWIM.MemberState(
                name: "m\(i)", endpoint: endpoint(i + 1), incarnation: incarnation, status: .alive, metadata: [:],
                payloadGeneration: 0))
        s.status = status
        return s
    }

    static func alive(_ i: Int, incarnation: SWIM.Incarnation = 0) -> SWIM.Update { .alive(state(i, incarnation: incarnation)) }

    enum Step: Sendable {
        /// A gossip packet from m1 carrying these updates.
        case gossip([SWIM.Update])
        /// A push/pull request from m1 carrying these member states.
        case pushPull([SWIM.MemberState])
        /// A tick this many seconds after the start.
        case tick(seconds: UInt64)
    }

    struct Row: CustomTestStringConvertible, Sendable {
        var what: String
        /// Members known before the steps (m1 … m`known`).
        var known: Int
        var steps: [Step]
        /// The status of each named member afterwards (nil: not known).
        var expected: [String: SWIM.Status?]
        /// `.overCapacity` notifications over all steps.
        var refused: Int
        var testDescription: String { what }
    }

    static let retention = SWIM.Settings.lan.deadMemberRetention.components.seconds

    static let rows: [Row] = [
        Row(what: "under the cap a new member is accepted", known: 2, steps: [.gossip([alive(3)])],
            expected: ["m3": .alive], refused: 0),
        Row(what: "at the cap a new member is refused and counted", known: 3, steps: [.gossip([alive(4), alive(5)])],
            expected: ["m4": nil, "m5": nil, "m3": .alive], refused: 2),
        Row(what: "at the cap a known member's refutation is accepted", known: 3,
            steps: [.gossip([.suspect(name: "m2", incarnation: 0, from: "m1")]), .gossip([alive(2, incarnation: 1)])],
            expected: ["m2": .alive], refused: 0),
        Row(what: "at the cap a known member's death is taken", known: 3,
            steps: [.gossip([.dead(name: "m2", incarnation: 0, from: "m1")])], expected: ["m2": .dead], refused: 0),
        Row(what: "a dead member still counts until it is reaped", known: 3,
            steps: [.gossip([.dead(name: "m2", incarnation: 0, from: "m1")]), .gossip([alive(4)])],
            expected: ["m2": .dead, "m4": nil], refused: 1),
        Row(what: "reaping a dead member makes room", known: 3,
            steps: [
                .gossip([.dead(name: "m2", incarnation: 0, from: "m1")]), .tick(seconds: UInt64(retention) + 1),
                .gossip([alive(4)]),
            ],
            expected: ["m2": nil, "m4": .alive], refused: 0),
        Row(what: "a member that left and is reaped makes room", known: 3,
            steps: [
                .gossip([
                    .dead(
                        name: "m3", incarnation: 0, from: "m3",
                        signature: MemberIdentity.named("m3").leaveSignature(name: "m3", incarnation: 0))
                ]),
                .tick(seconds: UInt64(SWIM.Settings.lan.leftMemberRetention.components.seconds) + 1), .gossip([alive(5)]),
            ],
            expected: ["m3": nil, "m5": .alive], refused: 0),
        Row(what: "a push/pull fills the free place and no more", known: 2,
            steps: [.pushPull([state(3), state(4), state(5), state(1, incarnation: 1)])],
            expected: ["m3": .alive, "m4": nil, "m5": nil], refused: 2),
        Row(what: "a push/pull's suspect of an unknown member at the cap is refused", known: 3,
            steps: [.pushPull([state(4, status: .suspect)])], expected: ["m4": nil], refused: 1),
    ]

    static func instance(knowing known: Int) -> SWIM.Instance {
        var settings = SWIM.Settings.lan
        settings.limits.maximumMembers = cap
        var me = SWIM.Instance(
            settings: settings, name: "me", endpoint: endpoint(1), identity: .named("me"), hasSeeds: false, seed: 7, now: .zero)
        _ = me.handle(.packet(SWIM.Packet(.gossip(from: "m1"), updates: (1...known).map { alive($0) }), from: endpoint(2)), at: .zero)
        return me
    }

    @Test(arguments: rows) func membersCap(_ row: Row) {
        var me = Self.instance(knowing: row.known)
        #expect(me.allMembers.count == row.known + 1)
        var out: [SWIM.Directive] = []
        var now = SWIM.Instant.zero
        for step in row.steps {
            switch step {
            case .gossip(let updates):
                out += me.handle(.packet(SWIM.Packet(.gossip(from: "m1"), updates: updates), from: Self.endpoint(2)), at: now)
            case .pushPull(let states):
                let sender = SWIM.Sender(name: "m1", endpoint: Self.endpoint(2))
                out += me.handle(.streamRequest(id: 1, .pushPull(join: false, from: sender, members: states, payload: nil), from: Self.endpoint(2)), at: now)
            case .tick(let seconds):
                now = SWIM.Instant(nanoseconds: seconds * 1_000_000_000)
                out += me.handle(.tick, at: now)
            }
        }
        for (name, status) in row.expected {
            #expect(me.member(named: name)?.status == status, "\(name)")
        }
        #expect(me.allMembers.count <= Self.cap)
        #expect(out.filter { if case .notify(.overCapacity) = $0 { true } else { false } }.count == row.refused)
    }

    /// The codec refuses a push/pull with more member records than the
    /// cap before reading them; one at the cap decodes.
    @Test(arguments: [(records: 3, cap: 3, decodes: true), (records: 4, cap: 3, decodes: false), (records: 0, cap: 2, decodes: true)])
    func pushPullRecordsOverTheCapAreMalformed(_ row: (records: Int, cap: Int, decodes: Bool)) {
        let message = SWIM.StreamMessage.pushPull(
            join: false, from: SWIM.Sender(name: "m1", endpoint: Self.endpoint(2)), members: (0..<row.records).map { Self.state($0 + 1) },
            payload: nil)
        let bytes = WireCodec.encode(message)
        let decoded = try? WireCodec.decodeStreamMessage(bytes, maximumMembers: row.cap)
        #expect((decoded != nil) == row.decodes)
        if !row.decodes {
            #expect(throws: WireError.invalid("push/pull of \(row.records) members, over the cap of \(row.cap)")) {
                try WireCodec.decodeStreamMessage(bytes, maximumMembers: row.cap)
            }
        }
    }

    /// `SWIM.Limits.problem()`: the values `GossipNode` and the command line refuse.
    @Test(arguments: [
        (SWIM.Limits.default, true),
        (SWIM.Limits(maximumMembers: 2), true),
        (SWIM.Limits(maximumMembers: 1), false),
        (SWIM.Limits(maximumMembers: 0), false),
        (SWIM.Limits(maximumMembers: -5), false),
        (SWIM.Limits(maximumPayloadSize: 0), false),
        (SWIM.Limits(maximumPayloadSize: SWIM.Limits.minimumPayloadSize - 1), false),
        (SWIM.Limits(maximumPayloadSize: SWIM.Limits.minimumPayloadSize), true),
        (SWIM.Limits(maximumMembers: 13_808), true),
        (SWIM.Limits(maximumMembers: 13_809), false),
        (SWIM.Limits(maximumMembers: 2, maximumPayloadSize: SWIM.Limits.maximumStreamMessageSize), false),
        (SWIM.Limits(maximumMembers: .max), false),
    ])
    func limitsValidation(_ limits: SWIM.Limits, _ valid: Bool) {
        #expect((limits.problem() == nil) == valid, "\(limits): \(limits.problem() ?? "ok")")
        if valid { #expect(limits.maximumPushPullSize <= SWIM.Limits.maximumStreamMessageSize) }
    }
}
