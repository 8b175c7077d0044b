import Testing
import TestSupport
@testable import Catalog

@Suite struct SummaryDeltaTests {
    /// A 10,000-digest filter at generation 1, the same plus 10 digests at generation 2.
    static func filters() -> (base: BloomFilter, direct: BloomFilter, added: [Digest]) {
        var rng = SplitMix64(seed: 21)
        let existing = (0..<10_000).map { _ in rng.digest() }
        let added = (0..<10).map { _ in rng.digest() }
        var base = BloomFilter(expectedCount: 10_000, generation: 1)
        for digest in existing { base.insert(digest) }
        var direct = BloomFilter(expectedCount: 10_000, generation: 2)
        for digest in existing + added { direct.insert(digest) }
        return (base, direct, added)
    }

    @Test func tenNewDigestsMakeASmallDeltaThatReproducesTheDirectFilter() throws {
        let (base, direct, added) = Self.filters()
        var extended = base
        for digest in added { extended.insert(digest) }
        extended.generation = 2
        let delta = try #require(SummaryDelta(from: base, to: extended))
        let bytes = delta.serialized()
        print("delta of 10 digests over 10,000: \(bytes.count) bytes, \(delta.positions.count) positions")
        #expect(bytes.count <= 1_000)
        #expect(delta.positions.count <= 10 * base.geometry.hashCount)

        let applied = try #require(SummaryDelta.apply(bytes, to: base.serialized()))
        #expect(applied == direct.serialized())
        #expect(try BloomFilter(serialized: applied) == direct)
        #expect(added.allSatisfy { direct.mightContain($0) })
    }

    @Test func applyIsUsableAsTheGossipLayersSendableFunction() {
        let apply: @Sendable ([UInt8], [UInt8]) -> [UInt8]? = SummaryDelta.apply
        let (base, direct, _) = Self.filters()
        let delta = SummaryDelta(from: base, to: direct)!
        #expect(apply(delta.serialized(), base.serialized()) == direct.serialized())
    }

    @Test func applyRefusesAnotherBaseGenerationOrGeometry() {
        let (base, direct, _) = Self.filters()
        let delta = SummaryDelta(from: base, to: direct)!.serialized()

        var stale = base
        stale.generation = 0
        #expect(SummaryDelta.apply(delta, to: stale.serialized()) == nil)
        #expect(SummaryDelta.apply(delta, to: direct.serialized()) == nil)  // already applied

        let otherShape = BloomFilter(expectedCount: 20_000, generation: 1)
        #expect(SummaryDelta.apply(delta, to: otherShape.serialized()) == nil)

        #expect(SummaryDelta.apply(delta, to: []) == nil)
        #expect(SummaryDelta.apply([], to: base.serialized()) == nil)
        #expect(SummaryDelta.apply(base.serialized(), to: base.serialized()) == nil)
    }

    @Test func aDeltaOnlyDescribesAdditions() {
        let (base, direct, _) = Self.filters()
        // Removal (a base bit cleared), another geometry, or no newer generation: no delta.
        #expect(SummaryDelta(from: direct, to: base) == nil)
        var sameGeneration = direct
        sameGeneration.generation = base.generation
        #expect(SummaryDelta(from: base, to: sameGeneration) == nil)
        var shrunk = BloomFilter(expectedCount: 5_000, generation: 2)
        shrunk.insert(Digest(sha256: [UInt8](repeating: 1, count: 32))!)
        #expect(SummaryDelta(from: base, to: shrunk) == nil)
        // Same shape, newer, more entries, but base bits cleared: a rebuild, not a delta.
        var rebuilt = BloomFilter(geometry: base.geometry, generation: 3)
        rebuilt.setBits([1, 2, 3], count: base.count + 5)
        #expect(SummaryDelta(from: base, to: rebuilt) == nil)
    }

    @Test func anEmptyDeltaStillAdvancesTheGeneration() throws {
        let base = BloomFilter(expectedCount: 100, generation: 7)
        var next = base
        next.generation = 8
        let bytes = try #require(SummaryDelta(from: base, to: next)).serialized()
        let applied = try BloomFilter(serialized: #require(SummaryDelta.apply(bytes, to: base.serialized())))
        #expect(applied.generation == 8)
        #expect(applied == next)
    }
}
