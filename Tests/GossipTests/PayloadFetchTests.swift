import Testing

@testable import Gossip

/// When members fetch a payload (`Instance+PayloadFetch.swift`): spread over
/// a window that grows with the group, so that n − 1 members learning a new
/// generation at once do not meet the owner's stream admission together,
/// and retried on their own after a failure.
@Suite struct PayloadFetchTests {
    static func endpoint(_ i: Int) -> SWIM.Endpoint {
        SWIM.Endpoint(host: "10.\(i / 65536).\(i / 256 % 256).\(i % 256)", port: 7946)
    }
    static let owner = "owner"
    static let ownerEndpoint = endpoint(2)

    /// Alive records of the other members, m-3 to m-1001, each signed by its
    /// own key (wire version 2); a group of n takes the first n − 2.
    static let others: [SWIM.MemberState] = (3..<1002).map {
        MemberIdentity.named("m-\($0)").signed(
            SWIM.MemberState(name: "m-\($0)", endpoint: endpoint($0), incarnation: 1, status: .alive, metadata: [:], payloadGeneration: 0))
    }
    static let ownerIdentity = MemberIdentity.named(owner)
    static let ownerState = ownerIdentity.signed(
        SWIM.MemberState(name: owner, endpoint: ownerEndpoint, incarnation: 1, status: .alive, metadata: [:], payloadGeneration: 1))

    /// "me" in a group of `members`, told by a push/pull from the owner that
    /// the owner's payload is at generation 1 (the payload itself not sent).
    static func instance(members: Int, seed: UInt64 = 7) -> (SWIM.Instance, [SWIM.Directive]) {
        var me = SWIM.Instance(
            settings: .lan, name: "me", endpoint: endpoint(1), identity: .named("me"), hasSeeds: false, seed: seed, now: .zero)
        // The owner last: "me" then knows the whole group when it learns the
        // generation, as every member but a newcomer does.
        let states = Array(others.prefix(max(0, members - 2))) + [ownerState]
        let out = me.handle(
            .streamRequest(
                id: 1, .pushPull(join: false, from: SWIM.Sender(name: owner, endpoint: ownerEndpoint), members: states, payload: nil),
                from: ownerEndpoint),
            at: .zero)
        return (me, out)
    }

    /// The payload requests among `directives`, as (owner, endpoint).
    static func requests(_ directives: [SWIM.Directive]) -> [(String, SWIM.Endpoint)] {
        directives.compactMap { directive in
            guard case .openStream(.payloadRequest(let owner, _), let to) = directive else { return nil }
            return (owner, to)
        }
    }

    /// Ticks `me` at every deadline up to `until`; the payload requests sent, with when.
    static func run(_ me: inout SWIM.Instance, from start: SWIM.Instant, until end: SWIM.Instant) -> [(SWIM.Instant, String)] {
        var sent: [(SWIM.Instant, String)] = []
        var now = start
        var steps = 0
        while me.nextDeadline <= end, steps < 100_000 {
            steps += 1
            now = max(now, me.nextDeadline)
            sent += requests(me.handle(.tick, at: now)).map { (now, $0.0) }
        }
        return sent
    }

    @Test(arguments: [
        (1, Duration.milliseconds(2)), (10, .milliseconds(20)), (100, .milliseconds(200)), (1000, .seconds(2)),
        (10_000, .seconds(2)),
    ])
    func spreadGrowsWithTheGroupUpToTwoSeconds(members: Int, spread: Duration) {
        #expect(SWIM.Instance.payloadFetchSpread(members: members) == spread)
    }

    /// A new generation is fetched from the owner once, inside the spread
    /// window, not at the moment it is learnt.
    @Test(arguments: [5, 100, 1000])
    func firstFetchComesInsideTheSpreadWindow(members: Int) {
        var (me, out) = Self.instance(members: members)
        let spread = SWIM.Instance.payloadFetchSpread(members: members)
        #expect(Self.requests(out).isEmpty, "not fetched at the moment the generation is learnt")
        let sent = Self.run(&me, from: .zero, until: .zero + spread)
        #expect(sent.map(\.1) == [Self.owner], "exactly one fetch, from the owner, within \(spread)")
        #expect(me.payloadFetches.due.isEmpty)
    }

    /// Across members (seeds), the fetches of one generation spread over the
    /// window rather than coming together.
    @Test func fetchesOfManyMembersSpreadOverTheWindow() {
        let spread = SWIM.Instance.payloadFetchSpread(members: 1000)
        let due = (0..<200).compactMap { seed in Self.instance(members: 1000, seed: UInt64(seed)).0.payloadFetches.due[Self.owner] }
        #expect(due.count == 200)
        let seconds = due.map { ($0 - .zero).seconds }
        let (low, high) = (seconds.min()!, seconds.max()!)
        #expect(high - low > 0.8 * spread.seconds, "spread over the window: \(low)–\(high) s")
        // No 10 ms slice holds more than a few (uniform: 1 expected).
        let busiest = Dictionary(grouping: seconds, by: { Int($0 * 100) }).values.map(\.count).max()!
        #expect(busiest <= 6, "at most a handful in any 10 ms: \(busiest)")
    }

    @Test(arguments: [(1, Duration.seconds(1)), (2, .seconds(2)), (3, .seconds(4)), (6, .seconds(32)), (50, .seconds(32))])
    func retriesBackOffFromOneToThirtyTwoSeconds(failures: Int, wait: Duration) {
        #expect(SWIM.Instance.payloadFetchBackoff(failures: failures) == wait)
    }

    /// Failure after failure, the retries come later each time.
    @Test func repeatedFailuresBackOff() {
        let members = 100
        var (me, _) = Self.instance(members: members)
        let spread = SWIM.Instance.payloadFetchSpread(members: members)
        var now = SWIM.Instant.zero
        var sentAt = Self.run(&me, from: now, until: now + spread).map(\.0)
        let request = SWIM.StreamMessage.payloadRequest(owner: Self.owner, generation: 1)
        for failures in 1...4 {
            #expect(sentAt.count == 1)
            now = sentAt[0]
            _ = me.handle(.streamFailed(request, to: Self.ownerEndpoint), at: now)
            let wait = SWIM.Instance.payloadFetchBackoff(failures: failures)
            #expect(Self.run(&me, from: now, until: now + (wait - .milliseconds(1))).isEmpty, "not before \(wait) after failure \(failures)")
            sentAt = Self.run(&me, from: now, until: now + wait + spread).map(\.0)
        }
        #expect(me.payloadFetches.failures[Self.owner] == 4)
    }

    enum Outcome: String, CaseIterable, Sendable {
        /// The stream failed (refused by the owner's admission, timed out).
        case refused
        /// The owner answered without the payload.
        case notHeld
        /// The owner answered with it.
        case answered
    }

    /// After a fetch ends: retried on its own, 1 s (the first failure's
    /// backoff) plus a share of the spread window later, unless the payload came.
    @Test(arguments: Outcome.allCases)
    func fetchIsRetriedOnItsOwnAfterAFailure(outcome: Outcome) {
        let members = 1000
        var (me, _) = Self.instance(members: members)
        let spread = SWIM.Instance.payloadFetchSpread(members: members)
        let first = Self.run(&me, from: .zero, until: .zero + spread)
        #expect(first.count == 1)
        let failedAt = first[0].0 + .milliseconds(50)
        let request = SWIM.StreamMessage.payloadRequest(owner: Self.owner, generation: 1)
        let event: SWIM.Event =
            switch outcome {
            case .refused: .streamFailed(request, to: Self.ownerEndpoint)
            case .notHeld: .streamReply(.payloadResponse(owner: Self.owner, payload: nil), from: Self.ownerEndpoint)
            case .answered:
                .streamReply(.payloadResponse(owner: Self.owner, payload: Self.ownerIdentity.signed(SWIM.Payload(generation: 1, bytes: [1]), owner: Self.owner)), from: Self.ownerEndpoint)
            }
        let out = me.handle(event, at: failedAt)
        #expect(Self.requests(out).isEmpty, "never retried at once")
        let early = Self.run(&me, from: failedAt, until: failedAt + .milliseconds(999))
        #expect(early.isEmpty, "not within the first second")
        let retried = Self.run(&me, from: failedAt, until: failedAt + .seconds(1) + spread)
        switch outcome {
        case .refused, .notHeld: #expect(retried.map(\.1) == [Self.owner], "retried once, without a new mention")
        case .answered: #expect(retried.isEmpty, "the payload came: nothing to retry")
        }
    }
}
