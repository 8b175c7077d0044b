import Catalog
import Testing

@testable import Registry

/// The coordinator's claim state machine, one row per transition: the steps
/// before, the step under test, what it answers, and the claim left behind.
/// Time is in seconds from a fixed start; the time to live is 10 s, a
/// completed fetch is pointed to for 60 s.
@Suite struct ClaimTableTests {
    static let digest = Digest("sha256:" + String(repeating: "cd", count: 32))!

    enum Step: Sendable, CustomStringConvertible {
        case ask(String, at: Int, unreachable: String? = nil, announced: String? = nil)
        case renew(String, at: Int)
        case release(String, at: Int, completed: Bool)
        case leave(String)

        var description: String {
            switch self {
            case .ask(let m, let t, let u, let a):
                "\(m) asks at \(t)s" + (u.map { ", \($0) unreachable" } ?? "")
                    + (a.map { ", \($0) announces" } ?? "")
            case .renew(let m, let t): "\(m) renews at \(t)s"
            case .release(let m, let t, let done): "\(m) releases at \(t)s (\(done ? "completed" : "failed"))"
            case .leave(let m): "\(m) leaves"
            }
        }
    }

    enum Answer: Hashable, Sendable {
        case decision(ClaimTable.Decision)
        case renewal(ClaimTable.Renewal)
        case nothing
    }

    struct Row: Sendable, CustomStringConvertible {
        var name: String
        var before: [Step]
        var step: Step
        var answer: Answer
        /// The claim afterwards: fetcher and phase, or nil for none.
        var after: (String, ClaimTable.Phase)?
        var followers: Set<String> = []
        var description: String { name }
    }

    static let rows: [Row] = [
        // Asking.
        Row(name: "the first asker fetches", before: [], step: .ask("a", at: 0), answer: .decision(.fetch), after: ("a", .fetching)),
        Row(name: "a later asker follows the fetcher", before: [.ask("a", at: 0)], step: .ask("b", at: 1),
            answer: .decision(.follow("a")), after: ("a", .fetching), followers: ["b"]),
        Row(name: "the fetcher asking again (a retry) fetches on", before: [.ask("a", at: 0), .ask("b", at: 1)], step: .ask("a", at: 2),
            answer: .decision(.fetch), after: ("a", .fetching), followers: ["b"]),
        Row(name: "an announced fetch is followed when there is no claim", before: [], step: .ask("b", at: 0, announced: "a"),
            answer: .decision(.follow("a")), after: ("a", .fetching), followers: ["b"]),
        Row(name: "a member's own announcement makes it fetch", before: [], step: .ask("a", at: 0, announced: "a"),
            answer: .decision(.fetch), after: ("a", .fetching)),
        Row(name: "a claim beats an announcement", before: [.ask("a", at: 0)], step: .ask("b", at: 1, announced: "c"),
            answer: .decision(.follow("a")), after: ("a", .fetching), followers: ["b"]),
        Row(name: "an unreachable fetcher's claim passes to the asker", before: [.ask("a", at: 0), .ask("b", at: 1)],
            step: .ask("c", at: 2, unreachable: "a"), answer: .decision(.fetch), after: ("c", .fetching)),
        Row(name: "an unreachable announcer is not followed", before: [], step: .ask("b", at: 0, unreachable: "a", announced: "a"),
            answer: .decision(.fetch), after: ("b", .fetching)),
        Row(name: "naming someone else unreachable changes nothing", before: [.ask("a", at: 0)], step: .ask("b", at: 1, unreachable: "z"),
            answer: .decision(.follow("a")), after: ("a", .fetching), followers: ["b"]),

        // Time to live.
        Row(name: "an expired claim goes to the next asker", before: [.ask("a", at: 0)], step: .ask("b", at: 10),
            answer: .decision(.fetch), after: ("b", .fetching)),
        Row(name: "a renewed claim outlives its first time to live", before: [.ask("a", at: 0), .renew("a", at: 8)], step: .ask("b", at: 15),
            answer: .decision(.follow("a")), after: ("a", .fetching), followers: ["b"]),
        Row(name: "a follower does not renew the claim", before: [.ask("a", at: 0), .ask("b", at: 8)], step: .ask("c", at: 10),
            answer: .decision(.fetch), after: ("c", .fetching)),

        // Renewing.
        Row(name: "renewing one's claim renews it", before: [.ask("a", at: 0)], step: .renew("a", at: 3),
            answer: .renewal(.renewed), after: ("a", .fetching)),
        Row(name: "renewing at a coordinator without the claim adopts it (view change)", before: [], step: .renew("a", at: 3),
            answer: .renewal(.adopted), after: ("a", .fetching)),
        Row(name: "renewing another's claim is superseded", before: [.ask("b", at: 0)], step: .renew("a", at: 3),
            answer: .renewal(.superseded(by: "b")), after: ("b", .fetching)),
        Row(name: "renewing after expiry adopts again", before: [.ask("a", at: 0)], step: .renew("a", at: 12),
            answer: .renewal(.adopted), after: ("a", .fetching)),

        // Releasing.
        Row(name: "a completed fetch is pointed to", before: [.ask("a", at: 0), .release("a", at: 5, completed: true)], step: .ask("b", at: 30),
            answer: .decision(.follow("a")), after: ("a", .completed), followers: ["b"]),
        Row(name: "a completed fetch is forgotten after the retention", before: [.ask("a", at: 0), .release("a", at: 5, completed: true)],
            step: .ask("b", at: 65), answer: .decision(.fetch), after: ("b", .fetching)),
        Row(name: "a failed fetch frees the claim", before: [.ask("a", at: 0), .ask("b", at: 1)], step: .release("a", at: 2, completed: false),
            answer: .nothing, after: nil),
        Row(name: "after a failure the next asker fetches", before: [.ask("a", at: 0), .release("a", at: 2, completed: false)],
            step: .ask("b", at: 3), answer: .decision(.fetch), after: ("b", .fetching)),
        Row(name: "only the fetcher releases", before: [.ask("a", at: 0)], step: .release("b", at: 2, completed: false),
            answer: .nothing, after: ("a", .fetching)),
        Row(name: "the fetcher of a completed blob asking again fetches again", before: [.ask("a", at: 0), .release("a", at: 5, completed: true)],
            step: .ask("a", at: 6), answer: .decision(.fetch), after: ("a", .fetching)),

        // Membership.
        Row(name: "a fetcher that leaves loses its claims", before: [.ask("a", at: 0), .ask("b", at: 1)], step: .leave("a"),
            answer: .nothing, after: nil),
        Row(name: "a follower that leaves changes nothing", before: [.ask("a", at: 0)], step: .leave("b"),
            answer: .nothing, after: ("a", .fetching)),
        Row(name: "after the fetcher left the next asker fetches", before: [.ask("a", at: 0), .leave("a")], step: .ask("b", at: 1),
            answer: .decision(.fetch), after: ("b", .fetching)),
    ]

    static let start = ContinuousClock.now

    static func apply(_ step: Step, to table: inout ClaimTable) -> Answer {
        func at(_ seconds: Int) -> ContinuousClock.Instant { start + .seconds(seconds) }
        switch step {
        case .ask(let member, let t, let unreachable, let announced):
            return .decision(table.ask(digest, by: member, unreachable: unreachable, announced: announced, now: at(t)))
        case .renew(let member, let t):
            return .renewal(table.renew(digest, by: member, now: at(t)))
        case .release(let member, let t, let completed):
            table.release(digest, by: member, completed: completed, now: at(t))
            return .nothing
        case .leave(let member):
            table.remove(member: member)
            return .nothing
        }
    }

    @Test(arguments: rows)
    func transition(_ row: Row) {
        var table = ClaimTable(settings: .init(ttl: .seconds(10), completedRetention: .seconds(60), capacity: 16))
        for step in row.before { _ = Self.apply(step, to: &table) }
        #expect(Self.apply(row.step, to: &table) == row.answer, "\(row.step)")
        let claim = table.claims[Self.digest]
        #expect(claim?.fetcher == row.after?.0)
        #expect(claim?.phase == row.after?.1)
        if let claim { #expect(claim.followers == row.followers) }
    }

    @Test func aFullTableLetsAskersFetchWithoutAClaim() {
        var table = ClaimTable(settings: .init(capacity: 2))
        let now = ContinuousClock.now
        let digests = (0..<3).map { SHA256.hash([UInt8($0)]) }
        #expect(table.ask(digests[0], by: "a", now: now) == .fetch)
        #expect(table.ask(digests[1], by: "a", now: now) == .fetch)
        #expect(table.ask(digests[2], by: "a", now: now) == .fetch)
        #expect(table.claims.count == 2)
        #expect(table.ask(digests[2], by: "b", now: now) == .fetch, "no claim was kept for the third")
        #expect(table.ask(digests[0], by: "b", now: now) == .follow("a"))
    }
}
