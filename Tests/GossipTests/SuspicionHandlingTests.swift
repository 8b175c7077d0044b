import Testing

@testable import Gossip

/// The suspicion rules of `SWIM.Instance` beyond the papers, on one instance
/// fed packets by hand: stale news answered with the newer alive record,
/// the one-time reminder of an unconfirmed suspicion, and push/pull state
/// that never counts as a Lifeguard confirmation.
@Suite struct SuspicionHandlingTests {
    static func endpoint(_ i: Int) -> SWIM.Endpoint { SWIM.Endpoint(host: "10.0.0.\(i)", port: 7946) }
    static let others = ["x", "a", "b", "c"]

    static func alive(_ name: String, incarnation: SWIM.Incarnation = 0) -> SWIM.Update {
        let index = (others.firstIndex(of: name) ?? 0) + 2
        return .alive(
            MemberIdentity.named(name).signed(
                SWIM.MemberState(
                    name: name, endpoint: endpoint(index), incarnation: incarnation, status: .alive, metadata: [:],
                    payloadGeneration: 0)))
    }

    /// "me" in a group of five (so Lifeguard expects k = 2 confirmations),
    /// knowing x at `incarnation`.
    static func instance(xIncarnation: SWIM.Incarnation = 0) -> SWIM.Instance {
        var me = SWIM.Instance(
            settings: .lan, name: "me", endpoint: endpoint(1), identity: .named("me"), hasSeeds: false, seed: 7, now: .zero)
        let updates = others.map { alive($0, incarnation: $0 == "x" ? xIncarnation : 0) }
        _ = me.handle(.packet(SWIM.Packet(.gossip(from: "a"), updates: updates), from: endpoint(3)), at: .zero)
        return me
    }

    static func gossip(_ updates: [SWIM.Update], from sender: String, to me: inout SWIM.Instance, at now: SWIM.Instant = .zero)
        -> [SWIM.Directive]
    {
        let index = (others.firstIndex(of: sender) ?? 0) + 2
        return me.handle(.packet(SWIM.Packet(.gossip(from: sender), updates: updates), from: endpoint(index)), at: now)
    }

    /// A push/pull request from `sender` carrying `members`.
    static func pushPull(from sender: String, _ members: [SWIM.MemberState]) -> SWIM.Event {
        let index = (others.firstIndex(of: sender) ?? 0) + 2
        return .streamRequest(
            id: 1, .pushPull(join: false, from: SWIM.Sender(name: sender, endpoint: endpoint(index)), members: members, payload: nil),
            from: endpoint(index))
    }

    /// The updates of every packet sent to `endpoint`.
    static func updates(in directives: [SWIM.Directive], to endpoint: SWIM.Endpoint) -> [SWIM.Update] {
        directives.flatMap { directive -> [SWIM.Update] in
            guard case .sendPacket(let packet, let to) = directive, to == endpoint else { return [] }
            return packet.updates
        }
    }

    @Test func staleSuspicionIsAnsweredWithTheNewerAliveRecord() {
        var me = Self.instance(xIncarnation: 3)
        let out = Self.gossip([.suspect(name: "x", incarnation: 2, from: "a")], from: "a", to: &me)
        #expect(Self.updates(in: out, to: Self.endpoint(3)).contains(Self.alive("x", incarnation: 3)))
        #expect(me.member(named: "x")?.status == .alive, "stale news changes nothing here")
        #expect(me.suspicions["x"] == nil)
    }

    @Test func currentSuspicionGetsNoCorrection() {
        var me = Self.instance(xIncarnation: 3)
        let out = Self.gossip([.suspect(name: "x", incarnation: 3, from: "a")], from: "a", to: &me)
        #expect(!Self.updates(in: out, to: Self.endpoint(3)).contains { if case .alive = $0 { true } else { false } })
        #expect(me.member(named: "x")?.status == .suspect)
        // A member we hold suspect (or dead) is not vouched for either.
        let again = Self.gossip([.dead(name: "x", incarnation: 2, from: "b")], from: "b", to: &me)
        #expect(Self.updates(in: again, to: Self.endpoint(4)).isEmpty)
    }

    @Test func staleSuspicionOfMyselfIsAnsweredWithoutANewIncarnation() {
        var me = Self.instance()
        _ = Self.gossip([.suspect(name: "me", incarnation: 0, from: "a")], from: "a", to: &me)
        #expect(me.member(named: "me")?.incarnation == 1, "a current suspicion is refuted with a new incarnation")
        let out = Self.gossip([.suspect(name: "me", incarnation: 0, from: "b")], from: "b", to: &me)
        #expect(me.member(named: "me")?.incarnation == 1, "stale news needs no new incarnation")
        let answer = Self.updates(in: out, to: Self.endpoint(4))
        #expect(answer.contains { if case .alive(let s) = $0 { s.name == "me" && s.incarnation == 1 } else { false } })
    }

    @Test func unconfirmedSuspicionIsRemindedOnceAtTheMinimumWithoutMovingTheDeadline() throws {
        var me = Self.instance()
        _ = Self.gossip([.suspect(name: "x", incarnation: 0, from: "a")], from: "a", to: &me)
        let started = try #require(me.suspicions["x"])
        let due = try #require(started.reminderDue)
        #expect(due == started.startedAt + started.minimum)

        // Send the original suspicion until its retransmissions are used up.
        var out: [SWIM.Directive] = []
        func suspectsSent(at now: SWIM.Instant) -> Int {
            out.removeAll()
            me.gossip(now, &out)
            return out.reduce(0) { count, directive in
                guard case .sendPacket(let packet, _) = directive else { return count }
                return count + packet.updates.filter { $0 == .suspect(name: "x", incarnation: 0, from: "a") }.count
            }
        }
        for _ in 0..<100 where suspectsSent(at: .zero) > 0 {}
        #expect(suspectsSent(at: .zero) == 0)

        out.removeAll()
        me.expireSuspicions(due, &out)
        let reminded = try #require(me.suspicions["x"])
        #expect(reminded.reminded)
        #expect(reminded.deadline == started.deadline, "a reminder does not move the deadline")
        #expect(reminded.confirmations == 0, "repeating is not confirming")
        #expect(suspectsSent(at: due) > 0, "the reminder goes out in the first accuser's name")

        // Only once.
        for _ in 0..<100 where suspectsSent(at: due) > 0 {}
        out.removeAll()
        me.expireSuspicions(due + .seconds(1), &out)
        #expect(suspectsSent(at: due + .seconds(1)) == 0)
    }

    @Test func suspicionFromPushPullStartsButNeverConfirms() throws {
        var me = Self.instance()
        _ = Self.gossip([.suspect(name: "x", incarnation: 0, from: "a")], from: "a", to: &me)
        var pulled = try #require(me.member(named: "x")?.state)
        pulled.status = .suspect
        _ = me.handle(Self.pushPull(from: "b", [pulled]), at: .zero)
        #expect(me.suspicions["x"]?.confirmations == 0, "b only passed the suspicion on")
        _ = Self.gossip([.suspect(name: "x", incarnation: 0, from: "c")], from: "c", to: &me)
        #expect(me.suspicions["x"]?.confirmations == 1, "c's own accusation counts")

        // Without a suspicion running, push/pull state still starts one.
        var fresh = Self.instance()
        _ = fresh.handle(Self.pushPull(from: "b", [pulled]), at: .zero)
        #expect(fresh.member(named: "x")?.status == .suspect)
    }
}
