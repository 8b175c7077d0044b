#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension BloomFilter {
    /// The shape of a filter: m bits and k bit indices per entry. Two filters
    /// (or a filter and a delta) combine only when their geometries are equal.
    public struct Geometry: Hashable, Sendable, CustomStringConvertible {
        /// m: the number of bits, a positive multiple of 64 (whole words).
        public let bitCount: Int
        /// k: bit indices per entry.
        public let hashCount: Int

        /// 8 MiB of bits (about 7 million entries at 1 %): the largest filter any
        /// node will send or accept.
        public static let maximumBitCount = 8 * 1024 * 1024 * 8
        /// Far above what any sane target rate needs (p = 1e-9 needs k = 30).
        public static let maximumHashCount = 64

        /// The textbook optimum for `expectedCount` entries at false-positive
        /// rate `falsePositiveRate`: m = ceil(-n ln p / (ln 2)²) rounded up to a
        /// multiple of 64, k = max(1, round(m/n · ln 2)). An empty expectation
        /// counts as one entry; m is capped at `maximumBitCount` (the rate then
        /// degrades rather than the filter growing without bound).
        public init(expectedCount: Int, falsePositiveRate: Double = 0.01) {
            precondition(expectedCount >= 0, "negative expected count")
            precondition(falsePositiveRate > 0 && falsePositiveRate < 1, "false-positive rate must be in (0, 1)")
            let n = Double(max(1, expectedCount))
            let idealBits = (-n * log(falsePositiveRate) / (log(2.0) * log(2.0))).rounded(.up)
            let cappedBits = min(idealBits, Double(Self.maximumBitCount))
            let bits = (Int(cappedBits) + 63) / 64 * 64
            let hashes = Int((Double(bits) / n * log(2.0)).rounded())
            self.bitCount = bits
            self.hashCount = min(Self.maximumHashCount, max(1, hashes))
        }

        /// An explicit geometry, as read from the wire; throws if out of range.
        public init(bitCount: Int, hashCount: Int) throws(SummaryFormatError) {
            guard bitCount > 0, bitCount % 64 == 0, bitCount <= Self.maximumBitCount,
                  (1...Self.maximumHashCount).contains(hashCount)
            else {
                throw .invalidGeometry(bitCount: UInt64(clamping: bitCount), hashCount: UInt8(clamping: hashCount))
            }
            self.bitCount = bitCount
            self.hashCount = hashCount
        }

        /// The expected false-positive rate once `count` entries are in:
        /// (1 − e^(−kn/m))^k.
        public func expectedFalsePositiveRate(count: Int) -> Double {
            pow(1 - exp(-Double(hashCount) * Double(count) / Double(bitCount)), Double(hashCount))
        }

        /// Calls `body` with each of the k bit indices of `key`, in order
        /// i = 0..<k. Scheme 1 (see `SummaryWireFormat`): with a = h1 mod m and
        /// b = h2 mod m, index_i = (a + i·b) mod m, computed by repeated
        /// addition so nothing overflows and the result equals the exact
        /// integer formula in any language.
        @inline(__always)
        func forEachBitIndex(of key: SummaryKey, _ body: (Int) -> Void) {
            let m = UInt64(bitCount)
            var index = Self.littleEndianWord(key.bytes, at: 0) % m
            let step = Self.littleEndianWord(key.bytes, at: 8) % m
            for _ in 0..<hashCount {
                body(Int(index))
                index += step
                if index >= m { index -= m }
            }
        }

        @inline(__always)
        private static func littleEndianWord(_ bytes: [UInt8], at start: Int) -> UInt64 {
            var word: UInt64 = 0
            for offset in 0..<8 { word |= UInt64(bytes[start + offset]) << (8 * UInt64(offset)) }
            return word
        }

        public var description: String { "m=\(bitCount) k=\(hashCount)" }
    }
}
