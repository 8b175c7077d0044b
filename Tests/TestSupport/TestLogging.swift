import Foundation
import Logging

/// Loggers for tests: to stderr, at the level named by `TEST_LOG_LEVEL`
/// (`trace` … `critical`), `warning` by default so passing runs stay quiet.
public enum TestLogging {
    public static func logger(_ label: String) -> Logger {
        var logger = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = level
        return logger
    }

    public static var level: Logger.Level {
        ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) }
            ?? .warning
    }
}
