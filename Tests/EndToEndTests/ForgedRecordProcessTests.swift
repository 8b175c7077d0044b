import Foundation
import Testing
import TestSupport

@testable import Gossip

/// Members speak only for themselves, against real `gossip-mirror run`
/// processes: mallory holds the cluster key and her own signing key, joins
/// as an honest member, then sends hand-built sealed forgeries in other-1's
/// name (its metadata rewritten under her key, under other-1's key with her
/// signature, a leave, a payload). The target counts each as `forged` in
/// /metrics, and its view of other-1, as a member reads it from a push/pull
/// answer, keeps other-1's key, metadata and signed payload.
@Suite(.serialized) struct ForgedRecordProcessTests {
    @Test func aMemberWithTheKeyCannotRewriteAnother() async throws {
        let cluster = try await MalloryCluster.start(subnet: 25)
        defer { cluster.stop() }
        let (nodes, target, to, mallory, subnet) = (cluster.nodes, cluster.target, cluster.to, cluster.mallory, cluster.subnet)
        let me = SWIM.Sender(name: "mallory", endpoint: mallory.endpoint)
        let hello = SWIM.StreamMessage.pushPull(join: true, from: me, members: [mallory.state(incarnation: 1)], payload: nil)
        func view() async throws -> [SWIM.MemberState] {
            let answer = try await Task.detached { try mallory.exchange(hello, with: to) }.value
            guard case .pushPull(_, _, let members, _)? = answer else { return [] }
            return members
        }
        func payload() async throws -> SWIM.Payload? {
            let answer = try await Task.detached { try mallory.exchange(.payloadRequest(owner: "other-1", generation: 0), with: to) }.value
            guard case .payloadResponse(_, let payload)? = answer else { return nil }
            return payload
        }
        let victim = try #require(try await view().first { $0.name == "other-1" }, "other-1 in the target's push/pull answer")
        #expect(RecordSignature.verifies(alive: victim), "the target passes on other-1's own signed record")
        let before = try #require(await MetricsScrape.fetch(from: target.statusAddress))
        let held = try await payload()

        var rewritten = victim
        rewritten.status = .alive
        rewritten.incarnation += 1
        rewritten.metadata = ["registry": "\(subnet).4:5000"]
        var borrowed = mallory.identity.signed(rewritten)
        borrowed.publicKey = victim.publicKey
        let forgeries: [SWIM.Update] = [
            .alive(mallory.identity.signed(rewritten)),
            .alive(borrowed),
            .dead(
                name: "other-1", incarnation: victim.incarnation + 1, from: "other-1",
                signature: mallory.identity.leaveSignature(name: "other-1", incarnation: victim.incarnation + 1)),
        ]
        for update in forgeries {
            mallory.gossip([update], to: to)
            try await Task.sleep(for: .milliseconds(20))
        }
        // A push/pull in other-1's name carrying a payload she signed.
        let fake = mallory.identity.signed(
            SWIM.Payload(generation: (held?.generation ?? 0) + 1, bytes: Array("not other-1's summary".utf8)), owner: "other-1")
        let pushPull = SWIM.StreamMessage.pushPull(
            join: false, from: SWIM.Sender(name: "other-1", endpoint: mallory.endpoint), members: [], payload: fake)
        _ = try await Task.detached { try mallory.exchange(pushPull, with: to) }.value

        let expected = forgeries.count + 1
        let counted = await poll(timeout: .seconds(5)) {
            guard let now = await MetricsScrape.fetch(from: target.statusAddress) else { return false }
            return now.rejected("forged") - before.rejected("forged") >= expected
        }
        let after = try #require(await MetricsScrape.fetch(from: target.statusAddress))
        let forged = after.rejected("forged") - before.rejected("forged")
        print("forged records: \(forgeries.count) updates and 1 payload in other-1's name -> \(forged) forged")
        #expect(counted != nil, "\(forged) of \(expected) forgeries counted as forged")

        let now = try #require(try await view().first { $0.name == "other-1" })
        #expect(now.publicKey == victim.publicKey)
        #expect(now.metadata == victim.metadata)
        #expect(now.status == .alive)
        #expect(now.incarnation < rewritten.incarnation + 10)
        #expect(RecordSignature.verifies(alive: now))
        let payloadNow = try await payload()
        #expect(payloadNow?.bytes != fake.bytes, "the target serves mallory's payload as other-1's")
        if let payloadNow { #expect(RecordSignature.verifies(payload: payloadNow, of: "other-1", by: victim.publicKey)) }
        let status = try #require(await target.status())
        #expect(status.state(of: "other-1") == "alive")
        #expect(status.gossip.rejectedForged >= expected)
        for n in nodes { #expect(n.isRunning, "\(n.name) died\n\(String(n.log.suffix(3000)))") }
    }
}
