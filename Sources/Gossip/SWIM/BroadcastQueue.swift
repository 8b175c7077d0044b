extension SWIM {
    /// Updates waiting to be piggybacked, in two lanes: news about members
    /// the sender already knew (refutations, suspicions, deaths, metadata and
    /// payload changes) fills each packet before introductions of members
    /// new to the sender. A refutation races the suspicion timers of every
    /// member (Lifeguard §4.2), an introduction races nothing: a member
    /// learns of it in any later packet or push/pull. Without the lanes, a
    /// join of 1000 members, whose signed records fill packets for many
    /// rounds, held back refutations long enough that the simulator saw
    /// refuted members declared dead at 10 % loss.
    public struct BroadcastQueue: Sendable {
        private var urgent = BroadcastLane()
        private var introductions = BroadcastLane()

        public init() {}

        public var count: Int { urgent.count + introductions.count }
        public var isEmpty: Bool { urgent.isEmpty && introductions.isEmpty }

        /// Queues `update`, replacing older news of the same kind in either
        /// lane; `introduction` for the first news of a member new to us.
        public mutating func enqueue(_ update: Update, introduction: Bool = false) {
            if introduction {
                urgent.remove(sameKindAs: update)
                introductions.enqueue(update)
            } else {
                introductions.remove(sameKindAs: update)
                urgent.enqueue(update)
            }
        }

        /// Takes updates that fit in `budget` bytes, the urgent lane first.
        public mutating func take(budget: Int, limit: Int) -> [Update] {
            var chosen = urgent.take(budget: budget, limit: limit)
            var remaining = budget
            for u in chosen { remaining -= WireCodec.encodedSize(of: u) }
            if remaining >= 16 { chosen += introductions.take(budget: remaining, limit: limit) }
            return chosen
        }

        /// Drops everything (used when leaving).
        public mutating func removeAll() { self = BroadcastQueue() }
    }

    /// One lane of `BroadcastQueue`: updates waiting to be piggybacked, each
    /// sent a bounded number of times (memberlist `TransmitLimitedQueue`).
    ///
    /// Updates sent fewer times go first, newer before older among equals, so
    /// fresh news spreads fastest. News about a member replaces older news of
    /// the same kind about that member: only the latest verdict matters.
    ///
    /// The order is kept incrementally rather than sorted on every `take`
    /// (which runs for every datagram sent, while a member that just joined
    /// a large group holds one alive message per member): updates live in
    /// slots, and small plain references to them sit in one bucket per
    /// transmit count, each bucket ordered newest first.
    struct BroadcastLane: Sendable {
        /// Kind of news about one subject; a newer entry with the same key
        /// replaces the older. Alive, suspect and dead share one key because
        /// each supersedes the others.
        private struct Key: Hashable, Sendable {
            var subject: String
            var isPayload: Bool
        }

        /// An entry's place in the order: `id` grows with every enqueue.
        private struct Ref: Sendable {
            var id: UInt64
            var slot: Int
            var size: Int
        }

        /// References in descending `id` (newest first) in `refs[start...]`;
        /// `refs[..<start]` is room to add newer ones in front. Updates join
        /// a bucket mostly at either end: news arrives newest, and a batch
        /// learned at once (a join's full state) moves on oldest last.
        private struct Bucket: Sendable {
            var refs: [Ref] = []
            var start = 0
            /// No reference here is smaller (a bound, lowered as references
            /// come, reset when the bucket empties): lets `take` pass over a
            /// bucket in which nothing can fit the rest of the budget.
            var smallest = Int.max

            var count: Int { refs.count - start }
            var isEmpty: Bool { refs.count == start }
            var newest: Ref? { isEmpty ? nil : refs[start] }
            var oldest: Ref? { isEmpty ? nil : refs[refs.count - 1] }

            /// The `k`-th newest.
            func ref(_ k: Int) -> Ref { refs[start + k] }

            mutating func remove(_ k: Int) {
                if k == 0 { start += 1 } else { refs.remove(at: start + k) }
                if start == refs.count { empty() }
            }

            mutating func empty() {
                refs.removeAll(keepingCapacity: true)
                start = 0
                smallest = .max
            }

            mutating func addNewest(_ ref: Ref) {
                smallest = min(smallest, ref.size)
                if isEmpty {
                    refs.append(ref)
                    return
                }
                if start == 0 {
                    // Make room in front, as much as is in use (plain loops:
                    // generic collection code is slow in debug builds).
                    let room = max(8, count)
                    var grown: [Ref] = []
                    grown.reserveCapacity(room + refs.count)
                    for _ in 0..<room { grown.append(ref) }
                    for r in refs { grown.append(r) }
                    refs = grown
                    start = room
                }
                start -= 1
                refs[start] = ref
            }

            mutating func addOldest(_ ref: Ref) {
                refs.append(ref)
                smallest = min(smallest, ref.size)
            }

            /// Adds anywhere, keeping the order.
            mutating func add(_ ref: Ref) {
                if let newest, newest.id > ref.id {
                    if oldest!.id > ref.id {
                        addOldest(ref)
                    } else {
                        refs.insert(ref, at: start + offset(of: ref.id))
                        smallest = min(smallest, ref.size)
                    }
                } else {
                    addNewest(ref)
                }
            }

            /// Number of references newer than `id`.
            func offset(of id: UInt64) -> Int {
                refs.withUnsafeBufferPointer { all in
                    var low = start
                    var high = all.count
                    while low < high {
                        let mid = (low + high) / 2
                        if all[mid].id > id { low = mid + 1 } else { high = mid }
                    }
                    return low - start
                }
            }

            mutating func remove(id: UInt64) {
                let k = offset(of: id)
                if k < count, ref(k).id == id { remove(k) }
            }

            /// Removes, newest first, the references whose size fits what
            /// remains of the budget, appending them to `taken`; true when
            /// the budget is spent (fewer than 16 bytes left).
            mutating func take(_ remaining: inout Int, into taken: inout [Ref]) -> Bool {
                var spent = false
                var k = start
                while k < refs.count, remaining >= smallest {
                    let ref = refs[k]
                    guard ref.size <= remaining else {
                        k += 1
                        continue
                    }
                    if k == start {
                        start += 1
                        k += 1
                    } else {
                        refs.remove(at: k)
                    }
                    remaining -= ref.size
                    taken.append(ref)
                    if remaining < 16 {
                        spent = true
                        break
                    }
                }
                if start == refs.count { empty() }
                return spent
            }

            /// Files `run[from..<to]`, references sent as often as this
            /// bucket's, newest first: in front, behind, or (rarely) in between.
            mutating func file(_ run: [Ref], from: Int, to: Int) {
                guard from < to else { return }
                if let newest, newest.id > run[to - 1].id {
                    if oldest!.id > run[from].id {
                        for j in from..<to { addOldest(run[j]) }
                    } else {
                        for j in from..<to { add(run[j]) }
                    }
                } else {
                    var j = to - 1
                    while j >= from {
                        addNewest(run[j])
                        j -= 1
                    }
                }
            }
        }

        // Slot storage, in parallel arrays (a debug build copies whole
        // structs on every access); freed slots are reused.
        private var updates: [Update] = []
        private var keys: [Key] = []
        private var transmits: [Int] = []
        private var ids: [UInt64] = []
        private var freeSlots: [Int] = []
        /// `buckets[t]`: references to entries sent `t` times.
        private var buckets: [Bucket] = []
        private var slotOfKey: [Key: Int] = [:]
        private var nextID: UInt64 = 0

        init() {}

        var count: Int { slotOfKey.count }
        var isEmpty: Bool { slotOfKey.isEmpty }

        private static func key(of update: Update) -> Key {
            Key(subject: update.subject, isPayload: { if case .payloadDelta = update { true } else { false } }())
        }

        /// Drops the queued news of the same kind about the same member.
        mutating func remove(sameKindAs update: Update) {
            guard !slotOfKey.isEmpty, let slot = slotOfKey.removeValue(forKey: Self.key(of: update)) else { return }
            buckets[transmits[slot]].remove(id: ids[slot])
            freeSlots.append(slot)
            while let last = buckets.last?.isEmpty, last { buckets.removeLast() }
        }

        /// Queues `update`, replacing older news of the same kind.
        mutating func enqueue(_ update: Update) {
            let key = Self.key(of: update)
            nextID &+= 1
            let slot: Int
            if let old = slotOfKey[key] {
                slot = old
                buckets[transmits[old]].remove(id: ids[old])
            } else if let free = freeSlots.popLast() {
                slot = free
                keys[free] = key
                slotOfKey[key] = slot
            } else {
                slot = updates.count
                updates.append(update)
                keys.append(key)
                transmits.append(0)
                ids.append(0)
                slotOfKey[key] = slot
            }
            updates[slot] = update
            transmits[slot] = 0
            ids[slot] = nextID
            if buckets.isEmpty { buckets.append(Bucket()) }
            buckets[0].addNewest(Ref(id: nextID, slot: slot, size: WireCodec.encodedSize(of: update)))
        }

        /// Takes updates that fit in `budget` bytes, counting a transmission
        /// for each and dropping those sent `limit` times.
        mutating func take(budget: Int, limit: Int) -> [Update] {
            guard !slotOfKey.isEmpty, budget > 0 else { return [] }
            var remaining = budget
            var chosen: [Update] = []
            // Re-filed after the walk, so that an update goes out once per
            // packet; in walk order, which is newest first per bucket.
            var taken: [Ref] = []
            var promoted: [Ref] = []
            var t = 0
            while t < buckets.count {
                let before = taken.count
                let spent = buckets[t].take(&remaining, into: &taken)
                for j in before..<taken.count {
                    let ref = taken[j]
                    chosen.append(updates[ref.slot])
                    if t + 1 >= limit {
                        slotOfKey[keys[ref.slot]] = nil
                        freeSlots.append(ref.slot)
                    } else {
                        transmits[ref.slot] = t + 1
                        promoted.append(ref)
                    }
                }
                if spent { break }
                t += 1
            }
            // One run per target bucket, newest first.
            var i = 0
            while i < promoted.count {
                let t = transmits[promoted[i].slot]
                var end = i + 1
                while end < promoted.count, transmits[promoted[end].slot] == t { end += 1 }
                if buckets.count <= t { buckets.append(Bucket()) }
                buckets[t].file(promoted, from: i, to: end)
                i = end
            }
            while let last = buckets.last?.isEmpty, last { buckets.removeLast() }
            return chosen
        }
    }
}
