// WeighpointCommandLine: what the command-line tools share (weighpoint, weighpoint-dev,
// weighpoint-case-sink): error output, Modbus link options, measuring helpers. No unit logic.
import Foundation

/// Writes to standard error (Swift 6 rejects the `stderr` global as not concurrency-safe).
public func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
