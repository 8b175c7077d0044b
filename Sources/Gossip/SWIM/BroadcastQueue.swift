extension SWIM {
    /// Updates waiting to be piggybacked, each sent a bounded number of times
    /// (memberlist `TransmitLimitedQueue`).
    ///
    /// Updates sent fewer times go first, newer before older among equals, so
    /// fresh news spreads fastest. News about a member replaces older news of
    /// the same kind about that member: only the latest verdict matters.
    public struct BroadcastQueue: Sendable {
        private struct Entry: Sendable {
            var update: Update
            var size: Int
            var transmits: Int
            var id: UInt64
        }

        /// Kind of news about one subject; a newer entry with the same key
        /// replaces the older. Alive, suspect and dead share one key because
        /// each supersedes the others.
        private struct Key: Hashable, Sendable {
            var subject: String
            var isPayload: Bool
        }

        private var entries: [Key: Entry] = [:]
        private var nextID: UInt64 = 0

        public init() {}

        public var count: Int { entries.count }
        public var isEmpty: Bool { entries.isEmpty }

        /// Queues `update`, replacing older news of the same kind.
        public mutating func enqueue(_ update: Update) {
            let key = Key(subject: update.subject, isPayload: { if case .payloadDelta = update { true } else { false } }())
            nextID &+= 1
            entries[key] = Entry(update: update, size: WireCodec.encodedSize(of: update), transmits: 0, id: nextID)
        }

        /// Takes updates that fit in `budget` bytes, counting a transmission
        /// for each and dropping those sent `limit` times.
        public mutating func take(budget: Int, limit: Int) -> [Update] {
            guard !entries.isEmpty, budget > 0 else { return [] }
            let ordered = entries.sorted { a, b in
                a.value.transmits != b.value.transmits ? a.value.transmits < b.value.transmits : a.value.id > b.value.id
            }
            var remaining = budget
            var chosen: [Update] = []
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

        /// Drops everything (used when leaving).
        public mutating func removeAll() { entries.removeAll() }
    }
}
