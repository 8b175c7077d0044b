/// A Bloom filter over summary keys (content digests and tag keys): the
/// summary a node gossips of what it holds.
///
/// Keys are sha256 outputs, so the k bit indices are taken straight from the
/// key bytes (see `Geometry.forEachBitIndex`) instead of being rehashed. A
/// filter has no false negatives; its false-positive rate follows from its
/// geometry and `count`. `generation` orders versions of one node's summary:
/// deltas name the generation they apply to.
public struct BloomFilter: Hashable, Sendable {
    public let geometry: Geometry
    /// n: the number of entries inserted. Callers insert distinct keys (the
    /// catalog inserts from a set); a repeated key is counted again.
    public internal(set) var count: Int
    /// The version of the summary this filter is; set by its owner.
    public var generation: UInt64
    /// The bit array, 64 bits per word; bit j lives in word j / 64 at bit j % 64.
    private(set) var words: [UInt64]

    /// An empty filter of the given shape.
    public init(geometry: Geometry, generation: UInt64 = 0) {
        self.geometry = geometry
        self.count = 0
        self.generation = generation
        self.words = Array(repeating: 0, count: geometry.bitCount / 64)
    }

    /// An empty filter sized for `expectedCount` entries at `falsePositiveRate`.
    public init(expectedCount: Int, falsePositiveRate: Double = 0.01, generation: UInt64 = 0) {
        self.init(geometry: Geometry(expectedCount: expectedCount, falsePositiveRate: falsePositiveRate),
                  generation: generation)
    }

    /// Assembles a decoded filter; `words.count` must match the geometry.
    init(geometry: Geometry, count: Int, generation: UInt64, words: [UInt64]) {
        precondition(words.count == geometry.bitCount / 64)
        self.geometry = geometry
        self.count = count
        self.generation = generation
        self.words = words
    }

    public mutating func insert(_ key: SummaryKey) {
        geometry.forEachBitIndex(of: key) { index in
            words[index >> 6] |= 1 << UInt64(index & 63)
        }
        count += 1
    }

    public mutating func insert(_ digest: Digest) { insert(SummaryKey(digest)) }

    /// Inserts raw sha256 bytes (32 of them) as a key.
    public mutating func insert(digestBytes: [UInt8]) {
        guard let key = SummaryKey(bytes: digestBytes) else {
            preconditionFailure("a summary key is 32 bytes, got \(digestBytes.count)")
        }
        insert(key)
    }

    /// False means certainly absent; true means present or a false positive.
    public func mightContain(_ key: SummaryKey) -> Bool {
        var all = true
        geometry.forEachBitIndex(of: key) { index in
            if words[index >> 6] & (1 << UInt64(index & 63)) == 0 { all = false }
        }
        return all
    }

    public func mightContain(_ digest: Digest) -> Bool { mightContain(SummaryKey(digest)) }

    /// The k bit indices `key` sets, in scheme order (not sorted, may repeat).
    public func bitPositions(of key: SummaryKey) -> [Int] {
        var positions = [Int]()
        positions.reserveCapacity(geometry.hashCount)
        geometry.forEachBitIndex(of: key) { positions.append($0) }
        return positions
    }

    /// How many bits are set; fill ratio = setBitCount / m.
    public var setBitCount: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// Whether bit `index` is set.
    func isSet(_ index: Int) -> Bool { words[index >> 6] & (1 << UInt64(index & 63)) != 0 }

    /// Sets the given bit indices (each < m) and records the new entry count.
    mutating func setBits(_ indices: [Int], count newCount: Int) {
        for index in indices { words[index >> 6] |= 1 << UInt64(index & 63) }
        count = newCount
    }
}
