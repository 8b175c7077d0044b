import Catalog
import Metrics
import Gossip
import Prometheus
import Registry

/// swift-metrics onto a Prometheus registry, with a `# HELP` line for every
/// metric and one set of latency buckets.
///
/// swift-prometheus's own factory creates every metric with empty help text
/// (swift-metrics has no place for it), and its registry refuses a second
/// help text for a name; so this factory looks each name's text up in the
/// descriptions each module keeps beside its metrics.
struct DocumentedMetricsFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry
    let help: [String: String]

    /// Latency buckets, 50 µs to 10 s: a local hit or a miss takes tens of
    /// microseconds to a millisecond, a relayed layer seconds. About three
    /// buckets a decade (1, 2.5, 5).
    static let latencyBuckets: [Duration] = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500),
        .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    /// Every module's descriptions, and this executable's own.
    static let allDescriptions: [String: String] = RegistryMetrics.descriptions
        .merging(GossipMetrics.descriptions) { a, _ in a }
        .merging(ColdPullMetrics.descriptions) { a, _ in a }
        .merging(LocalCatalog.metricDescriptions) { a, _ in a }
        .merging(BuildInfoMetric.descriptions) { a, _ in a }
        .merging(NodeMetrics.descriptions) { a, _ in a }

    init(registry: PrometheusCollectorRegistry, help: [String: String] = Self.allDescriptions) {
        self.registry = registry
        self.help = help
    }

    private func text(_ name: String) -> String { help[name] ?? "" }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(name: label, labels: dimensions, help: text(label))
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(name: label, labels: dimensions, help: text(label))
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(name: label, labels: dimensions, help: text(label)) }
        return registry.makeValueHistogram(
            name: label, labels: dimensions, buckets: [1, 10, 100, 1_000, 10_000, 100_000], help: text(label))
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(name: label, labels: dimensions, help: text(label))
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(name: label, labels: dimensions, buckets: Self.latencyBuckets, help: text(label))
    }

    func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
        if let histogram = handler as? ValueHistogram { registry.unregisterValueHistogram(histogram) }
    }

    func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }
}

/// `gossip_mirror_build_info`: 1, labelled with what this binary is.
enum BuildInfoMetric {
    static let name = "gossip_mirror_build_info"
    static let descriptions = [name: "Always 1; the labels say which version and commit this node runs."]

    static func register(in registry: PrometheusCollectorRegistry) {
        registry.makeGauge(
            name: name, labels: [("version", BuildInfo.version), ("commit", BuildInfo.commit ?? "unknown")],
            help: descriptions[name]!
        ).set(Double(1))
    }
}

/// Metrics of the node as a whole, kept by the executable.
enum NodeMetrics {
    static let ready = "gossip_mirror_ready"
    static let descriptions = [ready: "1 once the content store has been read (what /readyz answers), else 0."]
}
