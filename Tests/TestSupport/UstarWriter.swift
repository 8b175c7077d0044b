import Foundation

/// Writes a tar archive (POSIX ustar) holding one regular file of random bytes:
/// the smallest valid image layer with content of a chosen size.
enum UstarWriter {
    /// Writes the archive to `path`. The archive is `size` rounded up to 512 bytes,
    /// plus one 512-byte header and the two zero blocks that end an archive.
    static func writeRandomFile(named name: String, size: Int, to path: String, seed: UInt64) throws {
        precondition(name.utf8.count < 100, "ustar names are limited to 99 bytes here")
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw Subprocess.Failure(command: ["create", path], reason: "could not create the file")
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }

        try handle.write(contentsOf: header(name: name, size: size))
        var random = SplitMix64(seed: seed)
        var remaining = size
        var words = [UInt64](repeating: 0, count: (1 << 20) / 8)
        while remaining > 0 {
            let count = min(remaining, words.count * 8)
            for i in 0..<(count + 7) / 8 { words[i] = random.next() }
            try words.withUnsafeBytes { try handle.write(contentsOf: $0.prefix(count)) }
            remaining -= count
        }
        let padding = (512 - size % 512) % 512
        try handle.write(contentsOf: [UInt8](repeating: 0, count: padding + 1024))
    }

    /// A ustar header block for a regular file, mode 0644, owned by root.
    static func header(name: String, size: Int) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ string: String, at offset: Int, width: Int) {
            let bytes = Array(string.utf8.prefix(width))
            block.replaceSubrange(offset..<offset + bytes.count, with: bytes)
        }
        /// An octal number in `width - 1` digits and a terminating NUL.
        func octal(_ value: Int, at offset: Int, width: Int) {
            let digits = String(value, radix: 8)
            put(String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits, at: offset, width: width - 1)
        }
        put(name, at: 0, width: 100)
        octal(0o644, at: 100, width: 8)  // mode
        octal(0, at: 108, width: 8)  // uid
        octal(0, at: 116, width: 8)  // gid
        octal(size, at: 124, width: 12)  // size (up to 8 GiB in 11 octal digits)
        octal(1_700_000_000, at: 136, width: 12)  // mtime: fixed, so only content varies
        put("0", at: 156, width: 1)  // typeflag: regular file
        put("ustar\u{0}", at: 257, width: 6)  // magic
        put("00", at: 263, width: 2)  // version
        put("root", at: 265, width: 32)  // uname
        put("root", at: 297, width: 32)  // gname
        // The checksum is computed with its own field read as eight spaces.
        block.replaceSubrange(148..<156, with: [UInt8](repeating: 0x20, count: 8))
        let sum = block.reduce(0) { $0 + Int($1) }
        let digits = String(sum, radix: 8)
        put(String(repeating: "0", count: max(0, 6 - digits.count)) + digits, at: 148, width: 6)
        block[154] = 0
        block[155] = 0x20
        return block
    }
}
