import Testing

@testable import Gossip

/// A member that has left and then sees a local change (the catalog's
/// payload or metadata, which keep coming while the process shuts down)
/// announces nothing: an alive record with status left does not decode, and
/// one in a packet made every receiver drop the whole packet (found by the
/// wire-instance fuzz target; input in Tests/Fuzz/Regressions/wire-instance).
@Suite struct LeftMemberAnnouncementTests {
    typealias Fixture = SuspicionHandlingTests

    struct Row: CustomTestStringConvertible, Sendable {
        var what: String
        var event: SWIM.Event
        var testDescription: String { what }
    }

    static let rows: [Row] = [
        Row(what: "metadata after leaving", event: .localMetadata(["registry": "10.0.0.1:5001"])),
        Row(what: "full payload after leaving", event: .localPayload(SWIM.Payload(generation: 9, bytes: [1, 2, 3]), delta: nil)),
        Row(what: "payload delta after leaving", event: .localPayload(SWIM.Payload(generation: 10, bytes: [1]), delta: [7])),
    ]

    @Test(arguments: rows) func nothingUndecodableIsSentAfterLeaving(_ row: Row) {
        var me = Fixture.instance(xIncarnation: 3)
        _ = me.handle(.localPayload(SWIM.Payload(generation: 1, bytes: [0]), delta: nil), at: .zero)
        _ = me.handle(.leave, at: .zero)
        let incarnation = me.myself.incarnation
        var sent = me.handle(row.event, at: .zero)
        // Gossip goes out on the next probes and pings.
        for second in 1...5 { sent += me.handle(.tick, at: .zero + .seconds(Int64(second))) }
        #expect(me.myself.incarnation == incarnation, "a member that left raises nothing")
        for case .sendPacket(let packet, _) in sent {
            #expect((try? WireCodec.decodePacket(WireCodec.encode(packet))) == packet, "undecodable packet \(packet)")
            for case .alive(let state) in packet.updates where state.name == "me" {
                Issue.record("announced itself alive after leaving: \(state)")
            }
        }
    }
}
