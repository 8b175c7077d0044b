extension SWIM {
    /// Updates waiting to be piggybacked, each sent a bounded number of times
    /// (memberlist `TransmitLimitedQueue`).
    ///
    /// Updates sent fewer times go first, newer before older among equals, so
    /// fresh news spreads fastest. News about a member replaces older news of
    /// the same kind about that member: only the latest verdict matters.
    ///
    /// The order is kept incrementally rather than sorted on every `take`
    /// (which runs for every datagram sent, while a node that just joined a
    /// large group holds one alive message per member): entries live in a
    /// slab, and small plain references to them sit in one bucket per
    /// transmit count, each bucket ordered by age.
    public struct BroadcastQueue: Sendable {
        private struct Entry: Sendable {
            var update: Update
            var key: Key
            var transmits: Int
        }

        /// Where an entry sits in the order: `id` grows with every enqueue.
        private struct Ref: Sendable {
            var id: UInt64
            var slot: Int
            var size: Int
        }

        /// Kind of news about one subject; a newer entry with the same key
        /// replaces the older. Alive, suspect and dead share one key because
        /// each supersedes the others.
        private struct Key: Hashable, Sendable {
            var subject: String
            var isPayload: Bool
        }

        private var slab: [Entry?] = []
        private var freeSlots: [Int] = []
        /// `buckets[t]`: references to entries sent `t` times, ascending `id` (newest last).
        private var buckets: [[Ref]] = []
        private var slotOfKey: [Key: Int] = [:]
        private var idOfSlot: [UInt64] = []
        private var nextID: UInt64 = 0

        public init() {}

        public var count: Int { slotOfKey.count }
        public var isEmpty: Bool { slotOfKey.isEmpty }

        /// Queues `update`, replacing older news of the same kind.
        public mutating func enqueue(_ update: Update) {
            let key = Key(subject: update.subject, isPayload: { if case .payloadDelta = update { true } else { false } }())
            nextID &+= 1
            let slot: Int
            if let old = slotOfKey[key] {
                slot = old
                let t = slab[old]!.transmits
                if let i = position(of: idOfSlot[old], in: t) { buckets[t].remove(at: i) }
                slab[old] = Entry(update: update, key: key, transmits: 0)
                idOfSlot[old] = nextID
            } else if let free = freeSlots.popLast() {
                slot = free
                slab[free] = Entry(update: update, key: key, transmits: 0)
                idOfSlot[free] = nextID
                slotOfKey[key] = slot
            } else {
                slot = slab.count
                slab.append(Entry(update: update, key: key, transmits: 0))
                idOfSlot.append(nextID)
                slotOfKey[key] = slot
            }
            if buckets.isEmpty { buckets.append([]) }
            // The newest id is the largest: appending keeps bucket 0 ordered.
            buckets[0].append(Ref(id: nextID, slot: slot, size: WireCodec.encodedSize(of: update)))
        }

        /// Takes updates that fit in `budget` bytes, counting a transmission
        /// for each and dropping those sent `limit` times.
        public mutating func take(budget: Int, limit: Int) -> [Update] {
            guard !slotOfKey.isEmpty, budget > 0 else { return [] }
            var remaining = budget
            var chosen: [Update] = []
            // Re-filed after the walk, so that an update goes out once per packet.
            var promoted: [Ref] = []
            walk: for t in buckets.indices {
                var i = buckets[t].count - 1
                while i >= 0 {
                    let ref = buckets[t][i]
                    if ref.size <= remaining {
                        buckets[t].remove(at: i)
                        remaining -= ref.size
                        chosen.append(slab[ref.slot]!.update)
                        if t + 1 >= limit {
                            slotOfKey[slab[ref.slot]!.key] = nil
                            slab[ref.slot] = nil
                            freeSlots.append(ref.slot)
                        } else {
                            slab[ref.slot]!.transmits = t + 1
                            promoted.append(ref)
                        }
                        if remaining < 16 { break walk }
                    }
                    i -= 1
                }
            }
            for ref in promoted {
                let t = slab[ref.slot]!.transmits
                if buckets.count <= t { buckets.append([]) }
                buckets[t].insert(ref, at: insertionPoint(of: ref.id, in: t))
            }
            while let last = buckets.last?.isEmpty, last { buckets.removeLast() }
            return chosen
        }

        /// Drops everything (used when leaving).
        public mutating func removeAll() {
            slab.removeAll()
            freeSlots.removeAll()
            buckets.removeAll()
            slotOfKey.removeAll()
            idOfSlot.removeAll()
        }

        /// First index in bucket `t` whose id is not below `id`.
        private func insertionPoint(of id: UInt64, in t: Int) -> Int {
            var low = 0
            var high = buckets[t].count
            while low < high {
                let mid = (low + high) / 2
                if buckets[t][mid].id < id { low = mid + 1 } else { high = mid }
            }
            return low
        }

        private func position(of id: UInt64, in t: Int) -> Int? {
            guard t < buckets.count else { return nil }
            let i = insertionPoint(of: id, in: t)
            return i < buckets[t].count && buckets[t][i].id == id ? i : nil
        }
    }
}
