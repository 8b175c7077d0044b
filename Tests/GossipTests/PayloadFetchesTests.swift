import Testing

@testable import Gossip

/// The books of payload fetches (`SWIM.PayloadFetches`): what each step
/// leaves behind. When fetches happen is `PayloadFetchTests`' subject.
@Suite struct PayloadFetchesTests {
    static let retry = Duration.seconds(5)
    static let t0 = SWIM.Instant.zero + .seconds(100)

    /// Whether a fetch counts as under way (so that another is not scheduled).
    struct UnderWay: Sendable, CustomTestStringConvertible {
        let name: String
        let scheduled: Bool
        let sentAgo: Duration?
        let expected: Bool
        var testDescription: String { name }
    }
    static let underWayRows: [UnderWay] = [
        UnderWay(name: "nothing", scheduled: false, sentAgo: nil, expected: false),
        UnderWay(name: "scheduled", scheduled: true, sentAgo: nil, expected: true),
        UnderWay(name: "sent just now", scheduled: false, sentAgo: .zero, expected: true),
        UnderWay(name: "sent just under the retry time ago", scheduled: false, sentAgo: retry - .milliseconds(1), expected: true),
        UnderWay(name: "sent the retry time ago: may be retried", scheduled: false, sentAgo: retry, expected: false),
    ]

    @Test(arguments: underWayRows)
    func whetherUnderWay(_ row: UnderWay) {
        var fetches = SWIM.PayloadFetches()
        if let ago = row.sentAgo { fetches.sending("o", at: Self.t0 + (.zero - ago)) }
        if row.scheduled { fetches.schedule("o", at: Self.t0 + .seconds(1)) }
        #expect(fetches.isUnderWay("o", at: Self.t0, retry: Self.retry) == row.expected)
        #expect(!fetches.isUnderWay("other", at: Self.t0, retry: Self.retry), "other owners unaffected")
    }

    /// Due fetches come out in name order and leave the schedule; later ones stay.
    @Test func takeDueInNameOrder() {
        var fetches = SWIM.PayloadFetches()
        for (owner, offset) in [("c", 1), ("a", 3), ("b", 2), ("z", 10)] {
            fetches.schedule(owner, at: Self.t0 + .seconds(offset))
        }
        #expect(fetches.nextDue == Self.t0 + .seconds(1))
        #expect(fetches.takeDue(at: Self.t0 + .seconds(5)) == ["a", "b", "c"])
        #expect(fetches.takeDue(at: Self.t0 + .seconds(5)).isEmpty)
        #expect(fetches.nextDue == Self.t0 + .seconds(10))
    }

    /// Failures count up until a fetch finishes or the payload arrives
    /// another way; each end of a fetch clears the hint and the sent time.
    @Test func failuresCountUntilAnEnd() {
        var fetches = SWIM.PayloadFetches()
        fetches.hint("o")
        for expected in 1...3 {
            fetches.sending("o", at: Self.t0)
            #expect(fetches.failed("o") == expected)
            #expect(fetches.sent["o"] == nil && !fetches.hinted.contains("o"))
        }
        fetches.payloadArrived("o")
        #expect(fetches.failures["o"] == nil)
        #expect(fetches.failed("o") == 1, "the backoff starts again")
        fetches.sending("o", at: Self.t0)
        fetches.finished("o")
        #expect(fetches.failures["o"] == nil && fetches.sent["o"] == nil)
    }

    /// Forgetting an owner (dead, removed, a new life) leaves nothing of it,
    /// and nothing of anyone else is touched.
    @Test func forgetLeavesNothing() {
        var fetches = SWIM.PayloadFetches()
        for owner in ["o", "p"] {
            fetches.sending(owner, at: Self.t0)
            _ = fetches.failed(owner)
            fetches.sending(owner, at: Self.t0)
            fetches.hint(owner)
            fetches.schedule(owner, at: Self.t0 + .seconds(1))
        }
        fetches.forget("o")
        #expect(fetches.due["o"] == nil && fetches.sent["o"] == nil && fetches.failures["o"] == nil && !fetches.hinted.contains("o"))
        #expect(fetches.due["p"] != nil && fetches.sent["p"] != nil && fetches.failures["p"] == 1 && fetches.hinted.contains("p"))
    }
}
