import Foundation
import FuzzHarnesses
import Testing

/// Every fuzz target's properties over its seeds and over each input committed
/// under `Tests/Fuzz/Regressions/<target>/` (inputs that once crashed or broke
/// a property: see `docs/security.md`, "Fuzzing"). Runs in `swift test`,
/// without libFuzzer.
@Suite struct FuzzRegressionTests {
    static let regressions = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Regressions")

    @Test(arguments: FuzzTarget.all)
    func seedsHoldTheProperties(target: FuzzTarget) async {
        let seeds = target.seeds()
        #expect(!seeds.isEmpty)
        for (index, seed) in seeds.enumerated() {
            do { try await target.run(seed) } catch { Issue.record("\(target.name) seed \(index): \(error)") }
        }
    }

    @Test(arguments: FuzzTarget.all)
    func committedInputsHoldTheProperties(target: FuzzTarget) async throws {
        let directory = Self.regressions.appendingPathComponent(target.name)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path))?.sorted() ?? []
        for name in names where !name.hasPrefix(".") && !name.hasSuffix(".md") {
            let input = try [UInt8](Data(contentsOf: directory.appendingPathComponent(name)))
            do { try await target.run(input) } catch { Issue.record("\(target.name)/\(name): \(error)") }
        }
    }

    /// Each folder of inputs belongs to a target (a renamed target must take
    /// its inputs along).
    @Test func everyRegressionFolderNamesATarget() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.regressions.path).filter { !$0.hasPrefix(".") }
        for folder in folders {
            #expect(FuzzTarget.named(folder) != nil, "Tests/Fuzz/Regressions/\(folder) names no fuzz target")
        }
    }
}
