import Foundation

/// The GNU build ID note of the running executable, and the commit the
/// release build stores in it.
///
/// The release build links with `--build-id=0x<commit><"gm"><flags>`: the 20
/// bytes of the git commit, the two marker bytes `g` `m`, and one flag byte
/// (bit 0: the work tree had uncommitted changes). Any other build ID (the
/// linker's own hash, in a development build) names no commit.
enum ELFBuildID {
    /// The marker after the commit's 20 bytes.
    static let marker: [UInt8] = [0x67, 0x6D]

    /// The commit in a build ID of the release build's form, or nil.
    static func commit(fromBuildID id: [UInt8]) -> String? {
        guard id.count == 23, Array(id[20..<22]) == marker else { return nil }
        let hex = id[0..<20].map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
        }.joined()
        return id[22] & 1 == 1 ? hex + "-dirty" : hex
    }

    /// The build ID of the running executable, read from `/proc/self/exe`:
    /// the ELF header, its program headers, and the `PT_NOTE` segments they
    /// point to (`NT_GNU_BUILD_ID`, name `GNU`). Nil if it has none, or is
    /// not a little-endian ELF64 file.
    static func current(path: String = "/proc/self/exe") -> [UInt8]? {
        guard let file = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? file.close() }
        func read(_ offset: UInt64, _ count: Int) -> [UInt8]? {
            guard count >= 0, count <= 1 << 20, (try? file.seek(toOffset: offset)) != nil,
                let data = try? file.read(upToCount: count), data.count == count
            else { return nil }
            return Array(data)
        }
        // e_ident: magic, ELFCLASS64 (2), ELFDATA2LSB (1).
        guard let header = read(0, 64), header[0..<4] == [0x7F, 0x45, 0x4C, 0x46], header[4] == 2, header[5] == 1 else { return nil }
        let programHeaders = UInt64(littleEndian: header, at: 32)
        let entrySize = Int(UInt16(littleEndian: header, at: 54))
        let entries = Int(UInt16(littleEndian: header, at: 56))
        guard entrySize >= 56, entries <= 256 else { return nil }
        for index in 0..<entries {
            guard let entry = read(programHeaders + UInt64(index * entrySize), 56) else { return nil }
            guard UInt32(littleEndian: entry, at: 0) == 4 else { continue }  // PT_NOTE
            guard let notes = read(UInt64(littleEndian: entry, at: 8), Int(clamping: UInt64(littleEndian: entry, at: 32))) else { continue }
            if let id = notes.withUnsafeBytes({ buildID(inNotes: $0) }) { return id }
        }
        return nil
    }

    /// Walks a note segment: `namesz`, `descsz`, `type` (4 bytes each), the
    /// name and the descriptor, each padded to 4 bytes (ELF gABI, "Note Section").
    static func buildID(inNotes notes: UnsafeRawBufferPointer) -> [UInt8]? {
        var offset = 0
        func align(_ n: Int) -> Int { (n + 3) & ~3 }
        while offset + 12 <= notes.count {
            let nameSize = Int(notes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            let descSize = Int(notes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
            let type = notes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
            let nameStart = offset + 12
            let descStart = nameStart + align(nameSize)
            guard nameSize <= notes.count, descSize <= notes.count, descStart + descSize <= notes.count else { return nil }
            let name = Array(notes[nameStart..<nameStart + nameSize])
            if type == 3, name == Array("GNU\0".utf8) {  // NT_GNU_BUILD_ID
                return Array(notes[descStart..<descStart + descSize])
            }
            offset = descStart + align(descSize)
        }
        return nil
    }
}

extension FixedWidthInteger {
    /// The little-endian integer at `offset` of `bytes` (which must hold it).
    init(littleEndian bytes: [UInt8], at offset: Int) {
        var value: Self = 0
        for i in (0..<MemoryLayout<Self>.size).reversed() { value = value << 8 | Self(bytes[offset + i]) }
        self = value
    }
}
