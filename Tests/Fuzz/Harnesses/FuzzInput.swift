/// Reads structured values from a fuzzer's bytes, in the manner of LLVM's
/// `FuzzedDataProvider`: reading never fails; once the bytes run out, numbers
/// are 0 and byte strings are empty. Integers are big-endian.
///
/// `FuzzInput.Builder` writes the same layout, so seeds are built from the
/// values a harness should read rather than written by hand.
struct FuzzInput {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isExhausted: Bool { offset >= bytes.count }

    mutating func byte() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func integer<T: FixedWidthInteger & UnsignedInteger>(_: T.Type = T.self) -> T {
        var value: T = 0
        for _ in 0..<MemoryLayout<T>.size { value = value << 8 | T(byte()) }
        return value
    }

    mutating func bool() -> Bool { byte() & 1 == 1 }

    /// One of `options`, chosen by a byte.
    mutating func pick<T>(_ options: [T]) -> T { options[Int(byte()) % options.count] }

    /// A 16-bit length (at most `maximum`), then that many bytes (fewer if
    /// the input ends first).
    mutating func chunk(maximum: Int = 65_535) -> [UInt8] {
        let length = min(Int(integer(UInt16.self)), maximum, bytes.count - min(offset, bytes.count))
        defer { offset += length }
        return Array(bytes[offset..<offset + length])
    }

    /// Everything not read yet.
    mutating func rest() -> [UInt8] {
        guard offset < bytes.count else { return [] }
        defer { offset = bytes.count }
        return Array(bytes[offset...])
    }

    /// Writes what `FuzzInput` reads back, for seeds.
    struct Builder {
        private(set) var bytes: [UInt8] = []

        init() {}

        mutating func byte(_ value: UInt8) { bytes.append(value) }

        mutating func integer<T: FixedWidthInteger & UnsignedInteger>(_ value: T) {
            for shift in stride(from: (MemoryLayout<T>.size - 1) * 8, through: 0, by: -8) {
                bytes.append(UInt8(truncatingIfNeeded: value >> T(shift)))
            }
        }

        mutating func chunk(_ value: [UInt8]) {
            precondition(value.count <= 65_535)
            integer(UInt16(value.count))
            bytes += value
        }

        mutating func raw(_ value: some Sequence<UInt8>) { bytes += value }
    }
}
