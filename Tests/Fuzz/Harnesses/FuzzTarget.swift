/// One fuzz target: a decoder or parser fed arbitrary bytes, with the
/// properties that must hold for every input.
///
/// The same harness runs under libFuzzer (`Tests/Fuzz/Driver`, built only with
/// `GOSSIP_MIRROR_FUZZ=1`, see `scripts/fuzz.sh`) and in `swift test` over the
/// seeds and the committed regression inputs (`Tests/Fuzz/RegressionTests`).
/// A harness reports a broken property by throwing `PropertyViolation`; the
/// driver turns that into a crash, which libFuzzer records as a finding.
public struct FuzzTarget: Sendable, CustomStringConvertible {
    /// The name used on the command line and for the folder of regression
    /// inputs (`Tests/Fuzz/Regressions/<name>/`).
    public let name: String
    /// What is fuzzed and which properties are checked, in one line.
    public let summary: String
    /// Inputs that reach deep paths at once (valid encodings built with the
    /// real encoders), written into the corpus before a campaign.
    public let seeds: @Sendable () -> [[UInt8]]
    let body: Body

    enum Body: Sendable {
        case sync(@Sendable ([UInt8]) throws(PropertyViolation) -> Void)
        /// For APIs that are async (peer tokens read the keyring through an
        /// async closure); the driver waits for it on its own thread.
        case async(@Sendable ([UInt8]) async throws(PropertyViolation) -> Void)
    }

    init(
        name: String, summary: String, seeds: @escaping @Sendable () -> [[UInt8]],
        run: @escaping @Sendable ([UInt8]) throws(PropertyViolation) -> Void
    ) {
        self.name = name
        self.summary = summary
        self.seeds = seeds
        self.body = .sync(run)
    }

    init(
        name: String, summary: String, seeds: @escaping @Sendable () -> [[UInt8]],
        runAsync: @escaping @Sendable ([UInt8]) async throws(PropertyViolation) -> Void
    ) {
        self.name = name
        self.summary = summary
        self.seeds = seeds
        self.body = .async(runAsync)
    }

    /// Runs one input.
    public func run(_ input: [UInt8]) async throws(PropertyViolation) {
        switch body {
        case .sync(let run): try run(input)
        case .async(let run): try await run(input)
        }
    }

    /// The synchronous body, if the target has one (the driver calls it
    /// directly, without a task per execution).
    public var synchronousBody: (@Sendable ([UInt8]) throws(PropertyViolation) -> Void)? {
        if case .sync(let run) = body { return run }
        return nil
    }

    public var description: String { name }
}

/// A property that an input broke: a finding, as much as a crash is.
public struct PropertyViolation: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}

/// Throws unless `condition` holds.
@inline(__always)
func require(_ condition: Bool, _ message: @autoclosure () -> String) throws(PropertyViolation) {
    guard condition else { throw PropertyViolation(message()) }
}

extension FuzzTarget {
    /// Every target, in the order the fuzz script runs them.
    public static var all: [FuzzTarget] {
        var targets: [FuzzTarget] = [
            .envelope, .wireInstance, .summary, .reference, .range, .peerToken, .claim,
        ]
        #if DEBUG || GOSSIP_MIRROR_FUZZ
        // These reach internal API (`@testable import`), which a plain
        // release build does not offer; debug builds (tests) and fuzz
        // builds (`-enable-testing -DGOSSIP_MIRROR_FUZZ`) do.
        targets += [.streamChunk, .answerSeal, .ociDocument, .clientConfig, .configuration, .containerdEvent]
        #endif
        return targets
    }

    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}
