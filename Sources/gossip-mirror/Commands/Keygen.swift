import ArgumentParser
import Foundation
import Gossip

/// `gossip-mirror keygen [--out FILE]`: a new base64 32-byte cluster key.
struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate a new cluster key (base64, 32 bytes).",
        discussion: "Without --out the key is printed on standard output. The file is created with mode 0600 and never overwritten."
    )

    @Option(help: "Write the key to this file (mode 0600) instead of standard output.")
    var out: String?

    func run() throws {
        let key = ClusterKey.generate()
        guard let out else {
            print(key.base64)
            return
        }
        guard !FileManager.default.fileExists(atPath: out) else {
            throw ValidationError("\(out) already exists; refusing to overwrite a key")
        }
        let created = FileManager.default.createFile(
            atPath: out, contents: Data((key.base64 + "\n").utf8), attributes: [.posixPermissions: 0o600])
        guard created else { throw ValidationError("cannot write \(out)") }
        FileHandle.standardError.write(Data("wrote a new cluster key to \(out) (key id \(key.id))\n".utf8))
    }
}
