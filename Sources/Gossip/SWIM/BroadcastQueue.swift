extension SWIM {
    /// Updates waiting to be piggybacked, each sent a bounded number of times
    /// (memberlist `TransmitLimitedQueue`).
    ///
    /// Updates sent fewer times go first, newer before older among equals, so
    /// fresh news spreads fastest. News about a member replaces older news of
    /// the same kind about that member: only the latest verdict matters.
    ///
    /// Entries are kept in buckets by transmit count, each bucket ordered by
    /// age, so `take` walks them in priority order without sorting the whole
    /// queue on every packet (a joining node queues one alive message per
    /// member, and `take` runs for every datagram sent).
    public struct BroadcastQueue: Sendable {
        private struct Entry: Sendable {
            var update: Update
            var size: Int
            var id: UInt64
            var key: Key
        }

        /// Kind of news about one subject; a newer entry with the same key
        /// replaces the older. Alive, suspect and dead share one key because
        /// each supersedes the others.
        private struct Key: Hashable, Sendable {
            var subject: String
            var isPayload: Bool
        }

        private struct Location: Sendable {
            var transmits: Int
            var id: UInt64
        }

        /// `buckets[t]`: entries sent `t` times, in ascending `id` (newest last).
        private var buckets: [[Entry]] = []
        private var locations: [Key: Location] = [:]
        private var nextID: UInt64 = 0

        public init() {}

        public var count: Int { locations.count }
        public var isEmpty: Bool { locations.isEmpty }

        /// Queues `update`, replacing older news of the same kind.
        public mutating func enqueue(_ update: Update) {
            let key = Key(subject: update.subject, isPayload: { if case .payloadDelta = update { true } else { false } }())
            nextID &+= 1
            if let old = locations[key], let i = position(of: old.id, in: old.transmits) {
                buckets[old.transmits].remove(at: i)
            }
            if buckets.isEmpty { buckets.append([]) }
            // The newest id is the largest: appending keeps bucket 0 ordered.
            buckets[0].append(Entry(update: update, size: WireCodec.encodedSize(of: update), id: nextID, key: key))
            locations[key] = Location(transmits: 0, id: nextID)
        }

        /// Takes updates that fit in `budget` bytes, counting a transmission
        /// for each and dropping those sent `limit` times.
        public mutating func take(budget: Int, limit: Int) -> [Update] {
            guard !locations.isEmpty, budget > 0 else { return [] }
            var remaining = budget
            var chosen: [Update] = []
            // Re-filed after the walk, so that an update goes out once per packet.
            var promoted: [Entry] = []
            var promotedTo: [Int] = []
            walk: for t in buckets.indices {
                var i = buckets[t].count - 1
                while i >= 0 {
                    let size = buckets[t][i].size
                    if size <= remaining {
                        let entry = buckets[t].remove(at: i)
                        remaining -= size
                        chosen.append(entry.update)
                        if t + 1 >= limit {
                            locations[entry.key] = nil
                        } else {
                            locations[entry.key] = Location(transmits: t + 1, id: entry.id)
                            promoted.append(entry)
                            promotedTo.append(t + 1)
                        }
                        if remaining < 16 { break walk }
                    }
                    i -= 1
                }
            }
            for (entry, t) in zip(promoted, promotedTo) {
                while buckets.count <= t { buckets.append([]) }
                buckets[t].insert(entry, at: insertionPoint(of: entry.id, in: t))
            }
            while let last = buckets.last, last.isEmpty { buckets.removeLast() }
            return chosen
        }

        /// Drops everything (used when leaving).
        public mutating func removeAll() {
            buckets.removeAll()
            locations.removeAll()
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
