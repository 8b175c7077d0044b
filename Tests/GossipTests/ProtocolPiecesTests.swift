import Testing

@testable import Gossip

@Suite struct ProtocolPiecesTests {
    @Test func suspicionTimeoutShrinksWithConfirmations() {
        var s = SWIM.Suspicion(
            incarnation: 1, from: "a", startedAt: .zero, minimum: .seconds(4), maximum: .seconds(24), expectedConfirmations: 2)
        #expect(s.timeout == .seconds(24))
        let first = s.confirm(by: "b")
        let again = s.confirm(by: "b")
        #expect(first)
        #expect(!again, "the same accuser counts once")
        let one = s.timeout
        #expect(one < .seconds(24) && one > .seconds(4))
        let second = s.confirm(by: "c")
        #expect(second)
        #expect(s.timeout == .seconds(4))
        let extra = s.confirm(by: "d")
        #expect(!extra, "confirmations beyond k do not count")
        let lonely = SWIM.Suspicion(
            incarnation: 1, from: "a", startedAt: .zero, minimum: .seconds(4), maximum: .seconds(24), expectedConfirmations: 0)
        #expect(lonely.timeout == .seconds(4))
    }

    @Test func settingsFollowTheDesign() {
        let lan = SWIM.Settings.lan
        #expect(lan.suspicionMinimum(members: 5) == .seconds(4))
        #expect(lan.suspicionMaximum(members: 5) == .seconds(24))
        #expect(lan.suspicionMinimum(members: 1000) == .seconds(12))
        #expect(lan.retransmitLimit(members: 5) == 4)
        #expect(lan.retransmitLimit(members: 1000) == 16)
        #expect(lan.pushPullInterval(members: 32) == .seconds(30))
        #expect(lan.pushPullInterval(members: 64) == .seconds(60))
        #expect(SWIM.Settings.wan.packetBudget == 1232)
        #expect(SWIM.Settings.profile(named: "edge") == .wan)
    }

    @Test func localHealthSaturates() {
        var h = SWIM.LocalHealth(maximum: 8)
        h.apply(-3)
        #expect(h.score == 0)
        h.apply(20)
        #expect(h.score == 7)
        #expect(h.scale(.seconds(1)) == .seconds(8))
    }

    @Test func broadcastQueueRespectsBudgetAndLimit() {
        var q = SWIM.BroadcastQueue()
        for i in 0..<50 {
            q.enqueue(.suspect(name: "member-\(i)", incarnation: 1, from: "me"))
        }
        q.enqueue(.suspect(name: "member-0", incarnation: 2, from: "me"))
        #expect(q.count == 50, "newer news about a member replaces the older")
        let size = WireCodec.encodedSize(of: .suspect(name: "member-10", incarnation: 1, from: "me"))
        let taken = q.take(budget: 300, limit: 2)
        #expect(taken.map(WireCodec.encodedSize(of:)).reduce(0, +) <= 300)
        #expect(taken.count >= 300 / (size + 1) - 1)
        // Each update goes out `limit` times, then leaves the queue.
        var rounds = 0
        while !q.isEmpty, rounds < 1000 {
            _ = q.take(budget: 1400, limit: 2)
            rounds += 1
        }
        #expect(q.isEmpty)
    }

    @Test func endpointParsing() {
        #expect(SWIM.Endpoint(parsing: "10.0.0.1:7946") == .init(host: "10.0.0.1", port: 7946))
        #expect(SWIM.Endpoint(parsing: "[fd00::1]:80") == .init(host: "fd00::1", port: 80))
        #expect(SWIM.Endpoint(parsing: "seeds.example", defaultPort: 7946) == .init(host: "seeds.example", port: 7946))
        #expect(SWIM.Endpoint(parsing: "host:0") == nil)
        #expect(SWIM.Endpoint(parsing: "host:99999") == nil)
        #expect(SWIM.Endpoint(parsing: ":80") == nil)
        #expect(SWIM.Endpoint(parsing: "host") == nil)
    }

    @Test func seedResolution() {
        let (endpoints, failures) = SeedResolver.resolve(
            ["127.0.0.1:7000", "localhost", "no-such-host.invalid:1", "bad:port:x"], defaultPort: 7946)
        #expect(endpoints.contains(.init(host: "127.0.0.1", port: 7000)))
        #expect(endpoints.contains(.init(host: "127.0.0.1", port: 7946)))
        #expect(failures.count == 2)
    }

    /// Instant arithmetic saturates instead of wrapping or trapping.
    @Test func instantArithmeticSaturates() {
        let far = SWIM.Instant(nanoseconds: .max - 10)
        #expect(far + .seconds(1) == SWIM.Instant(nanoseconds: .max))
        #expect(SWIM.Instant(nanoseconds: 5) + .nanoseconds(-10) == .zero)
        #expect(SWIM.Instant(nanoseconds: .max) - .zero == .nanoseconds(Int64.max))
        #expect(SWIM.Instant.zero - SWIM.Instant(nanoseconds: .max) == .nanoseconds(-Int64.max))
        #expect(SWIM.Instant(nanoseconds: 3_000) - SWIM.Instant(nanoseconds: 1_000) == .nanoseconds(2_000))
        #expect(SWIM.Instant(nanoseconds: 1_000) + .nanoseconds(-400) == SWIM.Instant(nanoseconds: 600))
    }
}
