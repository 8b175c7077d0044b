import Foundation
import TestSupport
import Testing
@testable import Catalog

@Suite struct SHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ])
    func knownVectors(message: String, expected: String) {
        #expect(SHA256.hash(message.utf8).hex == expected)
    }

    @Test func millionAs() {
        let message = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(SHA256.hash(message).hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // A sequence without contiguous storage takes the other path.
        #expect(SHA256.hash(message.lazy.map { $0 }).hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Padding boundaries (55/56/64 bytes…) and a 3 MB file, against coreutils.
    @Test func matchesSha256sum() async throws {
        let directory = try ScratchDirectory("sha256")
        defer { directory.remove() }
        var rng = SplitMix64(seed: 2024)
        let lengths = [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 3 * 1024 * 1024 + 17]
        var expected: [String: String] = [:]
        for length in lengths {
            let bytes = rng.bytes(length)
            let path = directory.path + "/file-\(length)"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            expected[path] = SHA256.hash(bytes).hex
        }

        let text = try await Subprocess.run(["sha256sum"] + lengths.map { directory.path + "/file-\($0)" }).stdout

        var checked = 0
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 1)
            let path = fields[1].trimmingCharacters(in: CharacterSet(charactersIn: " *"))
            #expect(expected[path] == String(fields[0]), "\(path)")
            checked += 1
        }
        #expect(checked == lengths.count)
    }
}
