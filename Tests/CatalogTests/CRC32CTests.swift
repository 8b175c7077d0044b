import TestSupport
import Testing
@testable import Catalog

@Suite struct CRC32CTests {
    /// One bit at a time, the definition (reflected polynomial 0x82F63B78).
    static func bitwise(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }

    @Test func checkValue() {
        // The standard check value of CRC-32C over "123456789" (RFC 3720 B.4 lists more).
        #expect(CRC32C.checksum("123456789".utf8) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
    }

    /// Slicing-by-8 against the definition: every length around the 8-byte
    /// steps, at every alignment of the start (slices of one buffer).
    @Test func agreesWithTheBitwiseDefinition() {
        var rng = SplitMix64(seed: 32)
        let buffer = rng.bytes(4096 + 8)
        for offset in 0..<8 {
            for length in Array(0...40) + [63, 64, 65, 1000, 4096] {
                let slice = buffer[offset..<offset + length]
                #expect(CRC32C.checksum(slice) == Self.bitwise(slice), "offset \(offset) length \(length)")
            }
        }
    }
}
