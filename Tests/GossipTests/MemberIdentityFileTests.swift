import Foundation
import Testing

@testable import Gossip

/// `MemberIdentity.loadOrCreate`: the identity key file behind
/// `--identity-key-file`. One row per state of the file before the start.
@Suite struct MemberIdentityFileTests {
    enum Before: String, CaseIterable, Sendable {
        /// No file: one is created, mode 0600, and the next start reads the same key.
        case missing
        /// Neither the file nor its folder (a first start on a Nomad client).
        case missingFolder
        /// A valid file: read, not rewritten.
        case valid
        /// Not base64: refused, the file left as it was.
        case notBase64
        /// 16 bytes instead of 32: refused, the file left as it was.
        case wrongLength
    }

    @Test(arguments: Before.allCases)
    func identityKeyFile(_ before: Before) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("identity-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let path = before == .missingFolder ? root + "/state/sub/identity.key" : root + "/identity.key"
        let existing = MemberIdentity.generate()
        let content: String? =
            switch before {
            case .missing, .missingFolder: nil
            case .valid: existing.base64 + "\n"
            case .notBase64: "not a key!\n"
            case .wrongLength: Data(repeating: 7, count: 16).base64EncodedString()
            }
        if let content { try content.write(toFile: path, atomically: true, encoding: .utf8) }

        switch before {
        case .missing, .missingFolder:
            let created = try MemberIdentity.loadOrCreate(path: path)
            let mode = try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
            #expect(mode == 0o600, "the key file is private: \(String(mode, radix: 8))")
            #expect(try MemberIdentity.loadOrCreate(path: path).publicKey == created.publicKey, "a restart keeps its key")
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent)
            #expect(leftovers == ["identity.key"], "no temporary file left: \(leftovers)")
        case .valid:
            #expect(try MemberIdentity.loadOrCreate(path: path).publicKey == existing.publicKey)
            #expect(try String(contentsOfFile: path, encoding: .utf8) == content)
        case .notBase64, .wrongLength:
            #expect(throws: MemberIdentity.LoadError.self) { try MemberIdentity.loadOrCreate(path: path) }
            #expect(try String(contentsOfFile: path, encoding: .utf8) == content, "a bad file is not replaced")
        }
    }
}
