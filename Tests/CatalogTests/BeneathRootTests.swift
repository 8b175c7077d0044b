import Foundation
import Testing
import TestSupport

@testable import Catalog

#if canImport(Glibc)
import Glibc
#endif

/// Issue 9, finding 6: blobs are opened without following links beneath the
/// store's root, and the descriptor checked is the one read.
@Suite struct BeneathRootTests {
    /// A scratch directory with `root/blobs/sha256` in it.
    static func scratch() throws -> ScratchDirectory {
        let scratch = try ScratchDirectory("gm-beneath")
        try FileManager.default.createDirectory(atPath: scratch.path + "/root/blobs/sha256", withIntermediateDirectories: true)
        return scratch
    }

    @Test func refusesLinksFifosDirectoriesAndWrongSizes() throws {
        let scratch = try Self.scratch()
        defer { scratch.remove() }
        let base = scratch.path
        let root = BeneathRoot(path: base + "/root")
        let dir = base + "/root/blobs/sha256"
        try Data("blob".utf8).write(to: URL(fileURLWithPath: dir + "/good"))
        #expect(try root.open(["blobs", "sha256", "good"], expectedSize: 4).readAll(limit: 4) == Array("blob".utf8))
        #expect(throws: BeneathError.sizeMismatch(expected: 5, actual: 4)) { try root.open(["blobs", "sha256", "good"], expectedSize: 5) }
        #expect(throws: BeneathError.missing) { try root.open(["blobs", "sha256", "absent"]) }
        #expect(throws: BeneathError.tooLarge(size: 4, limit: 3)) { try root.open(["blobs", "sha256", "good"]).readAll(limit: 3) }

        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir + "/good")
        #expect(throws: BeneathError.symbolicLink) { try root.open(["blobs", "sha256", "link"]) }

        // A FIFO would block an open for reading until a writer comes: refused at once.
        #expect(mkfifo(dir + "/fifo", 0o600) == 0)
        #expect(throws: BeneathError.notARegularFile) { try root.open(["blobs", "sha256", "fifo"]) }
        try FileManager.default.createDirectory(atPath: dir + "/directory", withIntermediateDirectories: true)
        #expect(throws: BeneathError.notARegularFile) { try root.open(["blobs", "sha256", "directory"]) }

        // A linked directory on the way is refused as well.
        try FileManager.default.createDirectory(atPath: base + "/elsewhere", withIntermediateDirectories: true)
        try Data("blob".utf8).write(to: URL(fileURLWithPath: base + "/elsewhere/good"))
        try FileManager.default.createSymbolicLink(atPath: base + "/root/linked", withDestinationPath: base + "/elsewhere")
        #expect(throws: BeneathError.notADirectoryOnTheWay) { try root.open(["linked", "good"]) }
        // The root itself is the operator's and may be a link.
        try FileManager.default.createSymbolicLink(atPath: base + "/root-link", withDestinationPath: base + "/root")
        #expect(try BeneathRoot(path: base + "/root-link").open(["blobs", "sha256", "good"]).size == 4)
    }

    /// The race of the review: a blob swapped back and forth for a link to a
    /// file outside the root while it is opened and read. The review's
    /// realpath-then-open served the outside file in 3 of 1,237 GETs; here
    /// no read may ever see it.
    @Test func aBlobSwappedForALinkIsNeverReadThroughIt() async throws {
        let scratch = try Self.scratch()
        defer { scratch.remove() }
        let base = scratch.path
        let store = try OCILayoutStore(path: base + "/root")
        let good = [UInt8](repeating: 0x47, count: 4096)
        let digest = SHA256.hash(good)
        let blob = base + "/root/blobs/sha256/" + digest.hex
        let staged = base + "/root/blobs/sha256/staged"
        let link = base + "/root/blobs/sha256/link"
        try Data(good).write(to: URL(fileURLWithPath: blob))
        try Data([UInt8](repeating: 0x53, count: 4096)).write(to: URL(fileURLWithPath: base + "/secret"))

        let swapper = Task.detached {
            // Atomic renames: the name is always either the file or the link.
            var swaps = 0
            while !Task.isCancelled {
                try? FileManager.default.removeItem(atPath: link)
                try? FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: base + "/secret")
                rename(blob, staged)
                rename(link, blob)
                rename(blob, link)
                rename(staged, blob)
                swaps += 1
            }
            return swaps
        }
        var served = 0
        var refused = 0
        for _ in 0..<5000 {
            do {
                // What the registry does: open through the store, serve the descriptor.
                guard case .file(let file) = try await store.open(digest) else { throw BeneathError.notARegularFile }
                let bytes = try file.readAll(limit: 4096)
                #expect(bytes == good, "read something other than the blob")
                served += 1
            } catch {
                refused += 1
            }
        }
        swapper.cancel()
        let swaps = await swapper.value
        #expect(served > 0)
        print("beneath: \(served) served, \(refused) refused (a link or nothing in place), \(swaps) swaps")
    }
}
