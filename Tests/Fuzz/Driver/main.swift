// The libFuzzer driver: `gossip-mirror-fuzz <target> [libFuzzer flags] [corpus…]`.
//
// Built only with GOSSIP_MIRROR_FUZZ=1 and `-sanitize=fuzzer,address` (see
// scripts/fuzz.sh). SwiftPM links every executable with `main` defined as the
// module's entry point, so libFuzzer's own `main` is never used: this file is
// that entry point, selects a target and hands the remaining arguments to
// `LLVMFuzzerRunDriver` (libFuzzer's documented API for programs that keep
// their own main).
//
//   gossip-mirror-fuzz --list            one line per target: name, summary
//   gossip-mirror-fuzz <target> --seeds DIR
//                                        writes the target's seeds into DIR
//   gossip-mirror-fuzz <target> -runs=1000000 CORPUS_DIR…
//   gossip-mirror-fuzz <target> crash-…  reproduces one input
import Dispatch
import Foundation
import FuzzHarnesses

@_extern(c, "LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The target libFuzzer's callback runs. `nonisolated(unsafe)`: written once
/// below before `LLVMFuzzerRunDriver` starts, then only read, by libFuzzer's
/// one fuzzing thread.
enum Selected {
    nonisolated(unsafe) static var target: FuzzTarget?
}

/// Forked libFuzzer workers (`-fork`, `-jobs`) re-run this program with the
/// flags only; the target travels in the environment.
let environmentName = "GOSSIP_MIRROR_FUZZ_TARGET"

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(2)
}

var arguments = CommandLine.arguments
if arguments.count > 1, arguments[1] == "--list" {
    for target in FuzzTarget.all { print("\(target.name)\t\(target.summary)") }
    exit(0)
}
let target: FuzzTarget
if arguments.count > 1, let named = FuzzTarget.named(arguments[1]) {
    target = named
    arguments.remove(at: 1)
    setenv(environmentName, target.name, 1)
} else if let name = ProcessInfo.processInfo.environment[environmentName], let named = FuzzTarget.named(name) {
    target = named
} else {
    fail("usage: \(arguments[0]) <target> [libFuzzer flags] [corpus…]; targets: "
        + FuzzTarget.all.map(\.name).joined(separator: ", "))
}

if arguments.count == 3, arguments[1] == "--seeds" {
    let directory = URL(fileURLWithPath: arguments[2], isDirectory: true)
    for (index, seed) in target.seeds().enumerated() {
        do { try Data(seed).write(to: directory.appendingPathComponent("seed-\(index)")) } catch { fail("\(error)") }
    }
    exit(0)
}

Selected.target = target
let callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt = { data, size in
    LLVMFuzzerTestOneInput(data, size)
}

/// libFuzzer's entry point. `LLVMFuzzerRunDriver` below is given it as the
/// callback; it is also exported under its C name because debug builds link
/// libFuzzer's own `main` object, which references it (SwiftPM's `main`
/// still runs: this file).
@_cdecl("LLVMFuzzerTestOneInput")
func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let target = Selected.target!
    var violation: PropertyViolation?
    if let run = target.synchronousBody {
        do { try run(input) } catch { violation = error as? PropertyViolation ?? PropertyViolation("\(error)") }
    } else {
        // An async harness: wait for it here, on libFuzzer's thread (the
        // main thread, not one of the cooperative pool, so blocking is safe;
        // detached, or the task would wait for the main actor, which waits here).
        nonisolated(unsafe) var result: PropertyViolation?
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            do { try await target.run(input) } catch { result = error as? PropertyViolation ?? PropertyViolation("\(error)") }
            done.signal()
        }
        done.wait()
        violation = result
    }
    if let violation { fatalError("\(target.name): \(violation)") }
    return 0
}

var cArguments = arguments.map { strdup($0) } + [nil]
var argc = CInt(arguments.count)
let status = cArguments.withUnsafeMutableBufferPointer { buffer in
    var argv = buffer.baseAddress
    return LLVMFuzzerRunDriver(&argc, &argv, callback)
}
exit(status)
