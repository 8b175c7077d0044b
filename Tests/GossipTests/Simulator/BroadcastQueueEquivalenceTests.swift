import Testing

@testable import Gossip

/// Hot paths of the instance made faster for the simulator's sake, checked
/// against what they replaced.
///
/// `SWIM.BroadcastQueue` keeps its order incrementally (buckets by transmit
/// count) instead of sorting on every `take`. This checks it against the
/// straightforward sort-based queue it replaced, on random operations: same
/// updates, same order, every time.
@Suite("BroadcastQueue equivalence")
struct BroadcastQueueEquivalenceTests {
    /// `WireCodec.encodedSize(of: Message)` computes what `encode` writes.
    @Test func messageSizeMatchesEncoding() {
        let names = ["a", "node-0042", "nœud-é", String(repeating: "n", count: 128)]
        let hosts = ["10.0.0.1", "fd00::1", String(repeating: "h", count: 253)]
        for name in names {
            for host in hosts {
                let sender = SWIM.Sender(name: name, endpoint: SWIM.Endpoint(host: host, port: 7946))
                let messages: [SWIM.Message] = [
                    .ping(sequence: 7, target: name, targetKey: 1, from: sender),
                    .pingRequest(sequence: 8, target: sender, targetKey: 2, from: sender, wantsNack: true),
                    .ack(sequence: 9, from: name),
                    .nack(sequence: 10, from: name),
                    .gossip(from: name),
                ]
                for m in messages {
                    #expect(WireCodec.encodedSize(of: m) == WireCodec.encode(SWIM.Packet(m)).count, "\(m)")
                }
            }
        }
    }

    /// The original implementation, kept as the reference.
    struct ReferenceQueue {
        struct Entry {
            var update: SWIM.Update
            var size: Int
            var transmits: Int
            var id: UInt64
        }
        struct Key: Hashable {
            var subject: String
            var isPayload: Bool
        }
        var entries: [Key: Entry] = [:]
        var nextID: UInt64 = 0

        var count: Int { entries.count }

        mutating func enqueue(_ update: SWIM.Update) {
            let key = Key(subject: update.subject, isPayload: { if case .payloadDelta = update { true } else { false } }())
            nextID &+= 1
            entries[key] = Entry(update: update, size: WireCodec.encodedSize(of: update), transmits: 0, id: nextID)
        }

        mutating func take(budget: Int, limit: Int) -> [SWIM.Update] {
            guard !entries.isEmpty, budget > 0 else { return [] }
            let ordered = entries.sorted { a, b in
                a.value.transmits != b.value.transmits ? a.value.transmits < b.value.transmits : a.value.id > b.value.id
            }
            var remaining = budget
            var chosen: [SWIM.Update] = []
            for (key, entry) in ordered {
                guard entry.size <= remaining else { continue }
                remaining -= entry.size
                chosen.append(entry.update)
                if entry.transmits + 1 >= limit {
                    entries[key] = nil
                } else {
                    entries[key]!.transmits += 1
                }
                if remaining < 16 { break }
            }
            return chosen
        }
    }

    @Test(arguments: [1, 2])
    func sameChoicesAsSortingQueue(seed: UInt64) {
        var random = SWIM.Random(seed: seed)
        func draw(_ n: Int) -> Int { Int(random.next() % UInt64(n)) }
        var queue = SWIM.BroadcastQueue()
        var reference = ReferenceQueue()
        let names = (0..<(seed == 1 ? 8 : 200)).map { "member-\($0)" }
        var takes = 0
        var taken = 0
        for _ in 0..<2500 {
            let op = draw(10)
            if op < 6 {
                // A burst of news, like a join's full state or a busy spell.
                for _ in 0..<(draw(4) == 0 ? 1 + draw(200) : 1) {
                    let name = names[draw(names.count)]
                    let endpoint = SWIM.Endpoint(host: "10.0.0.\(draw(250))", port: 7946)
                    let update: SWIM.Update
                    switch draw(5) {
                    case 0:
                        update = .suspect(name: name, incarnation: UInt64(draw(5)), from: names[draw(names.count)])
                    case 1:
                        update = .dead(name: name, incarnation: UInt64(draw(5)), from: names[draw(names.count)])
                    case 2:
                        let delta = [UInt8](repeating: 7, count: draw(600))
                        update = .payloadDelta(owner: name, base: 1, generation: 2, delta: delta)
                    default:
                        let metadata = draw(3) == 0 ? ["registry": String(repeating: "x", count: draw(100))] : [:]
                        update = .alive(
                            SWIM.MemberState(
                                name: name, endpoint: endpoint, incarnation: UInt64(draw(5)), status: .alive,
                                metadata: metadata, payloadGeneration: UInt64(draw(3))))
                    }
                    queue.enqueue(update)
                    reference.enqueue(update)
                }
            } else {
                let budget = draw(8) == 0 ? draw(200) : 200 + draw(1200)
                let limit = 1 + draw(16)
                let got = queue.take(budget: budget, limit: limit)
                let expected = reference.take(budget: budget, limit: limit)
                #expect(got == expected, "take \(takes) differs")
                if got != expected { return }
                takes += 1
                taken += got.count
            }
            #expect(queue.count == reference.count)
        }
        #expect(takes > 100 && taken > 1000)
    }
}
