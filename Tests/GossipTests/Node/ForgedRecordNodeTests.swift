import Logging
import TestSupport
import Testing

@testable import Gossip

/// Members speak only for themselves, through a real `GossipNode`: a member
/// holding the cluster key (hand-built datagrams, sealed as a node would)
/// but not b's signing key cannot change b's alive record, metadata or
/// payload in a's view; each attempt is counted as `forged`.
@Suite struct ForgedRecordNodeTests {
    @Test func aMemberWithTheClusterKeyCannotSpeakForAnother() async throws {
        let cluster = InMemoryCluster()
        let a = try cluster.node("node-a", at: 1)
        let b = try cluster.node("node-b", at: 2, seeds: [1])
        try await cluster.running([a, b]) {
            try await cluster.waitUntilAlive([a, b])
            await b.publish(SWIM.Payload(generation: 1, bytes: [1, 2, 3]), delta: nil)
            try #require(await poll(timeout: .seconds(5)) { await a.payload(of: "node-b")?.generation == 1 } != nil)
            let before = try #require(await a.members.first { $0.name == "node-b" })
            let statsBefore = await a.statistics
            #expect(before.publicKey == (await b.myself.publicKey))

            let mallory = MemberIdentity.generate()
            func record(signedBy signer: MemberIdentity, key: [UInt8]? = nil) -> SWIM.MemberState {
                var s = signer.signed(
                    SWIM.MemberState(
                        name: "node-b", endpoint: before.endpoint, incarnation: before.incarnation + 1, status: .alive,
                        metadata: ["registry": "10.6.6.6:5000"], payloadGeneration: 9))
                if let key { s.publicKey = key }
                return s
            }
            let forgeries: [SWIM.Update] = [
                // Her own key under b's name: refused by the pin.
                .alive(record(signedBy: mallory)),
                // b's key, her signature: refused by the signature.
                .alive(record(signedBy: mallory, key: before.publicKey)),
                // A leave in b's name.
                .dead(
                    name: "node-b", incarnation: before.incarnation + 1, from: "node-b",
                    signature: mallory.leaveSignature(name: "node-b", incarnation: before.incarnation + 1)),
            ]
            let from = InMemoryCluster.endpoint(66)
            for update in forgeries {
                let packet = SWIM.Packet(.gossip(from: "mallory"), updates: [update])
                cluster.network.deliver(cluster.sealed(WireCodec.encode(packet)), from: from, to: a.advertisedEndpoint)
            }
            try #require(await poll(timeout: .seconds(5)) {
                await a.statistics.rejectedForged >= statsBefore.rejectedForged + forgeries.count
            } != nil, "every forgery is counted as forged")
            // A delta in b's name (a lacks a merge, so it cannot even apply
            // it: it asks b for the whole payload, which b signed).
            let delta = SWIM.Update.payloadDelta(
                owner: "node-b", base: 1, generation: 2, delta: [6],
                signature: mallory.signed(SWIM.Payload(generation: 2, bytes: [6]), owner: "node-b").signature)
            cluster.network.deliver(
                cluster.sealed(WireCodec.encode(SWIM.Packet(.gossip(from: "mallory"), updates: [delta]))), from: from,
                to: a.advertisedEndpoint)
            try await cluster.waitForTraffic(to: a)

            let after = try #require(await a.members.first { $0.name == "node-b" })
            #expect(after.status == .alive)
            #expect(after.publicKey == before.publicKey)
            #expect(after.metadata == before.metadata)
            #expect(after.incarnation == before.incarnation)
            #expect(await a.payload(of: "node-b")?.bytes == [1, 2, 3])
            #expect(await a.statistics.rejectedForged == statsBefore.rejectedForged + forgeries.count)
        }
    }
}
