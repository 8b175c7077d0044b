import Catalog
import Testing

@testable import Registry

/// Coordinator choice: every member of one view picks the same coordinator,
/// and a view change moves only the digests whose coordinator changed.
@Suite struct RendezvousTests {
    /// Digests spread like real ones (the sha256 of a counter).
    static let digests: [Digest] = (0..<2000).map { SHA256.hash(Array("blob \($0)".utf8)) }
    static let members = (1...8).map { "host-\($0)" }

    @Test func everyMemberOfTheSameViewPicksTheSameCoordinator() {
        for digest in Self.digests.prefix(200) {
            // Each member lists the view in its own order (as their member tables would).
            let picks = Set((0..<Self.members.count).map { rotation in
                let view = Array(Self.members[rotation...] + Self.members[..<rotation]).reversed()
                return Rendezvous.coordinator(of: digest, among: view)
            })
            #expect(picks.count == 1)
            #expect(picks.first! == Rendezvous.ranking(of: digest, among: Self.members).first)
        }
    }

    @Test func theWeightIsFixedAcrossProcessesAndVersions() {
        // A change here would make nodes of two versions disagree on every
        // coordinator. The value is computed independently:
        // sha256(b"gossip-mirror rendezvous v1\0" + bytes.fromhex("ab" * 32) + b"host-1")[:8]
        // read big-endian (Python's hashlib).
        let digest = Digest("sha256:" + String(repeating: "ab", count: 32))!
        #expect(Rendezvous.weight(of: "host-1", for: digest) == 0x6D3F_3349_8504_B50B)
    }

    static let viewChanges: [(String, [String], [String])] = [
        ("a member leaves", members, members.filter { $0 != "host-3" }),
        ("a member joins", members, members + ["host-9"]),
        ("two leave, one joins", members, members.filter { $0 != "host-2" && $0 != "host-7" } + ["host-10"]),
    ]

    @Test(arguments: viewChanges)
    func aViewChangeMovesOnlyTheDigestsOfTheMembersThatChanged(_ change: String, _ before: [String], _ after: [String]) {
        let left = Set(before).subtracting(after)
        let joined = Set(after).subtracting(before)
        var moved = 0
        for digest in Self.digests {
            let old = Rendezvous.coordinator(of: digest, among: before)!
            let new = Rendezvous.coordinator(of: digest, among: after)!
            guard old != new else { continue }
            moved += 1
            // A digest moves only away from a member that left or to one that joined.
            #expect(left.contains(old) || joined.contains(new), "\(change): \(digest) moved from \(old) to \(new)")
            // And where it goes from a leaver is its old second choice among the remaining.
            if left.contains(old), !joined.contains(new) {
                let succession = Rendezvous.ranking(of: digest, among: before).filter { !left.contains($0) }
                #expect(succession.first == new)
            }
        }
        // About (left + joined) / n of the digests move: well under half.
        let expected = Double(Self.digests.count) * Double(left.count + joined.count) / Double(max(before.count, after.count))
        #expect(Double(moved) < expected * 1.5 + 20, "\(change): \(moved) of \(Self.digests.count) moved, about \(Int(expected)) expected")
        #expect(moved > 0)
    }

    @Test func coordinatorsSpreadEvenly() {
        var counts: [String: Int] = [:]
        for digest in Self.digests { counts[Rendezvous.coordinator(of: digest, among: Self.members)!, default: 0] += 1 }
        let fair = Self.digests.count / Self.members.count
        for member in Self.members { #expect(abs(counts[member, default: 0] - fair) < fair / 4, "\(member): \(counts[member, default: 0])") }
    }

    @Test func noMembersNoCoordinator() {
        #expect(Rendezvous.coordinator(of: Self.digests[0], among: [String]()) == nil)
        #expect(Rendezvous.ranking(of: Self.digests[0], among: ["a", "a", "b"]).count == 2)
    }
}
