import Testing

@testable import Gossip

/// `SWIM.Limits` on one instance fed by hand (issue 9, finding 3): news at
/// absurd incarnations is dropped and reported, never refuted and never
/// trapping; news within the step behaves as before. The instance is "me" in
/// a group where x is known at incarnation 3 (see `SuspicionHandlingTests`).
@Suite struct IncarnationLimitTests {
    typealias Fixture = SuspicionHandlingTests
    static let step = SWIM.Limits.maximumIncarnationStep
    static let ceiling = SWIM.Limits.maximumIncarnation

    struct Row: CustomTestStringConvertible, Sendable {
        var what: String
        var update: SWIM.Update
        /// Incarnations held afterwards for "me" and "x".
        var me: SWIM.Incarnation
        var x: SWIM.Incarnation
        var implausible: Bool
        var testDescription: String { what }
    }

    static let rows: [Row] = [
        Row(what: "suspect me at UInt64.max (the crash)", update: .suspect(name: "me", incarnation: .max, from: "a"), me: 0, x: 3, implausible: true),
        Row(what: "dead me at UInt64.max", update: .dead(name: "me", incarnation: .max, from: "a"), me: 0, x: 3, implausible: true),
        Row(what: "suspect me above the ceiling", update: .suspect(name: "me", incarnation: ceiling + 1, from: "a"), me: 0, x: 3, implausible: true),
        Row(what: "suspect me one past the step", update: .suspect(name: "me", incarnation: step + 1, from: "a"), me: 0, x: 3, implausible: true),
        Row(what: "suspect me at the step is refuted", update: .suspect(name: "me", incarnation: step, from: "a"), me: step + 1, x: 3, implausible: false),
        Row(what: "alive me far ahead (impostor)", update: alive("me", step + 1), me: 0, x: 3, implausible: true),
        Row(what: "alive x one past the step", update: alive("x", 3 + step + 1), me: 0, x: 3, implausible: true),
        Row(what: "alive x at the step", update: alive("x", 3 + step), me: 0, x: 3 + step, implausible: false),
        Row(what: "suspect x one past the step", update: .suspect(name: "x", incarnation: 3 + step + 1, from: "a"), me: 0, x: 3, implausible: true),
        Row(what: "dead x at UInt64.max", update: .dead(name: "x", incarnation: .max, from: "a"), me: 0, x: 3, implausible: true),
        Row(what: "dead x within the step", update: .dead(name: "x", incarnation: 4, from: "a"), me: 0, x: 4, implausible: false),
        Row(what: "unknown member at the ceiling", update: alive("y", ceiling), me: 0, x: 3, implausible: false),
        Row(what: "unknown member above the ceiling", update: alive("y", ceiling + 1), me: 0, x: 3, implausible: true),
    ]

    static func alive(_ name: String, _ incarnation: SWIM.Incarnation) -> SWIM.Update {
        Fixture.alive(name, incarnation: incarnation)
    }

    static func implausible(_ directives: [SWIM.Directive]) -> Bool {
        directives.contains { if case .notify(.implausibleIncarnation) = $0 { true } else { false } }
    }

    @Test(arguments: rows) func updateByGossip(_ row: Row) {
        var me = Fixture.instance(xIncarnation: 3)
        let out = Fixture.gossip([row.update], from: "a", to: &me)
        #expect(me.myself.incarnation == row.me)
        #expect(me.member(named: "x")?.incarnation == row.x)
        #expect(Self.implausible(out) == row.implausible)
        if row.implausible {
            #expect(!out.contains { if case .notify(.refuted) = $0 { true } else { false } }, "dropped, not refuted")
        }
    }

    /// The same news in a push/pull exchange (member states, not updates).
    @Test func pushPullStatesAreBoundedToo() {
        var me = Fixture.instance(xIncarnation: 3)
        let states: [SWIM.MemberState] = [
            .init(name: "me", endpoint: Fixture.endpoint(9), incarnation: .max, status: .dead, metadata: [:], payloadGeneration: 0),
            .init(name: "x", endpoint: Fixture.endpoint(2), incarnation: 3 + Self.step + 1, status: .suspect, metadata: [:], payloadGeneration: 0),
            .init(name: "x", endpoint: Fixture.endpoint(2), incarnation: .max, status: .left, metadata: [:], payloadGeneration: 0),
        ]
        let out = me.handle(Fixture.pushPull(from: "b", states), at: .zero)
        #expect(me.myself.incarnation == 0)
        #expect(me.member(named: "x")?.incarnation == 3)
        #expect(me.member(named: "x")?.status == .alive)
        #expect(out.filter { if case .notify(.implausibleIncarnation) = $0 { true } else { false } }.count == 3)
    }

    /// At the ceiling there is nothing left to outbid with: no trap, no
    /// refutation, and our own raises saturate.
    @Test func theCeilingIsNeverPassed() {
        var me = SWIM.Instance(
            settings: .lan, name: "me", endpoint: Fixture.endpoint(1), identity: .named("me"), incarnation: Self.ceiling, hasSeeds: false, seed: 1,
            now: .zero)
        let out = me.handle(
            .packet(SWIM.Packet(.gossip(from: "a"), updates: [.suspect(name: "me", incarnation: Self.ceiling, from: "a")]),
                from: Fixture.endpoint(3)), at: .zero)
        #expect(me.myself.incarnation == Self.ceiling)
        #expect(!out.contains { if case .notify(.refuted) = $0 { true } else { false } })
        _ = me.handle(.localMetadata(["registry": "10.0.0.1:5000"]), at: .zero)
        _ = me.handle(.localPayload(SWIM.Payload(generation: 1, bytes: [1]), delta: nil), at: .zero)
        _ = me.handle(.leave, at: .zero)
        #expect(me.myself.incarnation == Self.ceiling)
    }

    @Test func plausibilityTable() {
        let rows: [(incarnation: SWIM.Incarnation, known: SWIM.Incarnation?, plausible: Bool)] = [
            (0, nil, true), (Self.ceiling, nil, true), (Self.ceiling + 1, nil, false), (.max, nil, false),
            (5, 9, true),  // older news is not the limit's business
            (9 + Self.step, 9, true), (10 + Self.step, 9, false), (.max, Self.ceiling, false), (Self.ceiling, Self.ceiling - 1, true),
        ]
        for row in rows {
            #expect(SWIM.Limits.isPlausible(row.incarnation, known: row.known) == row.plausible, "\(row)")
        }
    }
}
