import Foundation
import Logging
import Synchronization
import Testing
@testable import WeighpointService

/// A log handler that keeps each line's message and metadata.
final class KeptLines: LogHandler, @unchecked Sendable {
    let lines = Mutex<[(String, Logger.Metadata)]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        lines.withLock { $0.append(("\(message)", metadata ?? [:])) }
    }
}

/// Refusals are logged once a minute per reason and source, and the count of the rest is
/// logged when the burst is over, not only when the next burst starts.
@Suite struct RefusalLogTests {
    @Test func aBurstIsOneLineThenItsCountWhenItIsOver() {
        let kept = KeptLines()
        let log = RefusalLog(logger: Logger(label: "test") { _ in kept })
        let start = ContinuousClock.now
        for _ in 0..<50 { log.note("unauthenticated", "no credential", source: "10.0.0.66") }
        log.note("unauthenticated", "no credential", source: "10.0.0.67")
        #expect(kept.lines.withLock { $0.count } == 2, "one line per source")
        log.flush(now: start + .seconds(30))
        #expect(kept.lines.withLock { $0.count } == 2, "flushed within the minute")
        log.flush(now: start + .seconds(61))
        let lines = kept.lines.withLock { $0 }
        #expect(lines.count == 3)
        #expect(lines.last?.0 == "http requests refused, burst over" && lines.last?.1["refused_since_last_line"] == "49" && lines.last?.1["source"] == "10.0.0.66", "\(lines)")
    }
}
