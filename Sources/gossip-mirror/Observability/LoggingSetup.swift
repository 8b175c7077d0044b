import Logging

/// How `run` sets up logging: the level, text or JSON lines on standard
/// error, and a copy of every warning and error for the status page.
enum LoggingSetup {
    enum Format: String, CaseIterable, Sendable {
        case text, json
    }

    static func bootstrap(level: Logger.Level, format: Format, recent: RecentActivity) {
        LoggingSystem.bootstrap { label in
            var output: any LogHandler
            switch format {
            case .text: output = StreamLogHandler.standardError(label: label)
            case .json: output = JSONLogHandler(label: label)
            }
            output.logLevel = level
            return RecordingLogHandler(output: output, recent: recent)
        }
    }
}

/// Passes every entry on, and keeps warnings and worse in `RecentActivity`
/// (the status page's "last errors").
struct RecordingLogHandler: LogHandler {
    var output: any LogHandler
    let recent: RecentActivity

    var logLevel: Logger.Level {
        get { output.logLevel }
        set { output.logLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { output.metadata }
        set { output.metadata = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { output.metadataProvider }
        set { output.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { output[metadataKey: key] }
        set { output[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        output.log(event: event)
        if event.level >= .warning {
            var merged = output.metadata
            if let own = event.metadata { merged.merge(own) { _, new in new } }
            recent.recordError(level: event.level, message: "\(event.message)", metadata: merged)
        }
    }
}
