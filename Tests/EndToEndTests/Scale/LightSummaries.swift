import Catalog
import Synchronization
import TestSupport

@testable import Gossip

/// The summaries the harness members advertise: a Bloom filter of `digests`
/// random keys each, sized as a node sizes its own (`NodeSummary`: twice
/// the entries, 1 % false positives), and the deltas a node gossips when it
/// adds digests (`SummaryBridge`: the delta, and the full filter it makes).
struct LightSummary: Sendable {
    private(set) var filter: BloomFilter
    private(set) var payload: SWIM.Payload

    init(digests: Int, seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        var filter = BloomFilter(expectedCount: 2 * digests, falsePositiveRate: 0.01, generation: 1)
        for _ in 0..<digests { filter.insert(Self.randomKey(&generator)) }
        self.filter = filter
        self.payload = SWIM.Payload(generation: 1, bytes: filter.serialized())
    }

    /// Adds `key`: the new payload and the delta that turns the previous one into it.
    mutating func add(_ key: SummaryKey) -> (payload: SWIM.Payload, delta: [UInt8]) {
        let base = filter
        filter.insert(key)
        filter.generation = base.generation + 1
        payload = SWIM.Payload(generation: filter.generation, bytes: filter.serialized())
        return (payload, SummaryDelta(from: base, to: filter)!.serialized())
    }

    static func randomKey(_ generator: inout some RandomNumberGenerator) -> SummaryKey {
        var bytes = [UInt8](repeating: 0, count: 32)
        for i in stride(from: 0, to: 32, by: 8) {
            withUnsafeBytes(of: generator.next()) { word in
                for j in 0..<8 { bytes[i + j] = word[j] }
            }
        }
        return SummaryKey(bytes: bytes)!
    }
}

/// Applies summary deltas for the harness members, once per delta: the 999
/// members that apply one delta share the one resulting array, as they share
/// the payloads they fetched from each other, so that the harness holds each
/// member's summary about once instead of once per member (what makes 999
/// members fit in one process). The real node applies its deltas itself.
final class SharedDeltas: Sendable {
    private let results = Mutex<[[UInt8]: [UInt8]]>([:])

    /// A `SWIM.PayloadMerge`.
    var merge: SWIM.PayloadMerge {
        { [self] base, delta in apply(delta, to: base) }
    }

    func apply(_ delta: [UInt8], to base: [UInt8]) -> [UInt8]? {
        if let done = results.withLock({ $0[delta] }) { return done }
        guard let result = SummaryDelta.apply(delta, to: base) else { return nil }
        results.withLock { results in
            // Deltas are applied within seconds of being published: keep the recent ones.
            if results.count > 512 { results.removeAll() }
            results[delta] = result
        }
        return result
    }
}
