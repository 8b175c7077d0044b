import Foundation

/// A node's `/metrics` exposition, read sample by sample: enough for a test
/// to check one counter with its labels.
struct MetricsScrape: Sendable {
    let exposition: String

    /// `GET http://ADDRESS/metrics`, or nil if the node does not answer.
    static func fetch(from address: String) async -> MetricsScrape? {
        guard let (status, body) = try? await HTTPGet.curl("http://\(address)/metrics"), status == 200 else { return nil }
        return MetricsScrape(exposition: body)
    }

    /// The value of the sample `name{labels}` (labels exactly as given, in
    /// any order), or nil if there is none.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        for line in exposition.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            let series = line[..<space]
            let sampleName: Substring
            var sampleLabels: [String: String] = [:]
            if let brace = series.firstIndex(of: "{") {
                sampleName = series[..<brace]
                let inner = series[series.index(after: brace)..<(series.lastIndex(of: "}") ?? series.endIndex)]
                for pair in inner.split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2 else { continue }
                    sampleLabels[String(parts[0])] = String(parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
                }
            } else {
                sampleName = series
            }
            if sampleName == name, sampleLabels == labels { return Double(line[line.index(after: space)...]) }
        }
        return nil
    }

    /// `gossip_mirror_gossip_rejected_messages_total{reason}` (0 when absent).
    func rejected(_ reason: String) -> Int {
        Int(value("gossip_mirror_gossip_rejected_messages_total", ["reason": reason]) ?? 0)
    }
}
