/// The summary this node advertises and how it moves from one generation to
/// the next: additions extend the filter and travel as a delta; removals, or
/// more entries than the filter was sized for, rebuild it and it travels whole.
///
/// Pure value logic, separate from `LocalCatalog` so that it can be tested
/// without a store.
struct NodeSummary: Sendable {
    struct Sizing: Hashable, Sendable {
        var falsePositiveRate: Double = 0.01
        /// The smallest number of entries a filter is sized for.
        var minimumCapacity: Int = 1024
        /// A rebuilt filter is sized for this many times its current entries,
        /// so that growth travels as deltas for a while.
        var headroom: Double = 2

        func capacity(for count: Int) -> Int {
            max(minimumCapacity, Int((Double(count) * headroom).rounded(.up)))
        }
    }

    let sizing: Sizing
    private(set) var filter: BloomFilter
    /// `filter.serialized()`, kept because it is read far more often than it changes.
    private(set) var serialized: [UInt8]
    /// The number of entries `filter` was sized for.
    private(set) var capacity: Int
    private(set) var keys: Set<SummaryKey> = []

    init(sizing: Sizing, initialGeneration: UInt64) {
        self.sizing = sizing
        self.capacity = sizing.capacity(for: 0)
        self.filter = BloomFilter(expectedCount: capacity, falsePositiveRate: sizing.falsePositiveRate,
                                  generation: initialGeneration)
        self.serialized = filter.serialized()
    }

    var generation: UInt64 { filter.generation }

    /// Moves to the summary of `newKeys`: nil if nothing changed, else the
    /// update to send, and the generation has increased by one.
    mutating func update(to newKeys: Set<SummaryKey>) -> SummaryUpdate? {
        guard newKeys != keys else { return nil }
        let removedAny = !keys.isSubset(of: newKeys)
        let nextGeneration = filter.generation + 1
        defer { keys = newKeys }

        if removedAny || newKeys.count > capacity {
            capacity = sizing.capacity(for: newKeys.count)
            var rebuilt = BloomFilter(expectedCount: capacity, falsePositiveRate: sizing.falsePositiveRate,
                                      generation: nextGeneration)
            for key in newKeys { rebuilt.insert(key) }
            filter = rebuilt
            serialized = filter.serialized()
            return .full(serialized)
        }

        let base = filter
        for key in newKeys.subtracting(keys) { filter.insert(key) }
        filter.generation = nextGeneration
        serialized = filter.serialized()
        // A delta larger than the filter (a first pull of many images into a
        // small filter) is not worth sending.
        guard let delta = SummaryDelta(from: base, to: filter)?.serialized(), delta.count < serialized.count else {
            return .full(serialized)
        }
        return .delta(delta)
    }
}
