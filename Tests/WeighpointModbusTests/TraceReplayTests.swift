import Foundation
import Testing
import WeighpointCore
@testable import WeighpointModbus
import WeighpointTesting

/// Captured controller traffic replayed through the simulator and the unchanged driver; the
/// decoded output must equal the `.chk` file beside each trace. WEIGHPOINT_RECORD_TRACES=1
/// rewrites the `.chk` files instead, and fails so a recording never passes for a test.
@Suite(.serialized) struct TraceReplayTests {
    static var traces: [URL] {
        let dir = packageRoot.appendingPathComponent("Tests/WeighpointModbusTests/Traces")
        return ((try? FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)) ?? [])
            .filter { $0.pathExtension == "trace" }.sorted { $0.path < $1.path }
    }

    @Test func thereAreTraces() { #expect(Self.traces.count >= 2) }

    @Test(arguments: traces)
    func replaysToTheCheckedOutput(file: URL) throws {
        let trace = try WIMTrace.parse(try String(contentsOf: file, encoding: .utf8), source: file.path)
        let name = try #require(trace.profileName, "trace has no '# profile:' header")
        let p = try profile(name)
        let sim = try WIMSimulator(profile: p, transport: .tcp(host: "127.0.0.1", port: 0))
        try sim.start()
        defer { sim.stop() }
        var s = WIMLinkSettings(transport: .tcp(host: "127.0.0.1", port: sim.port), profile: p)
        s.responseTimeoutMs = 300
        var lines: [String] = []
        var last: UInt64?
        // Each stretch between split points is read over its own connection.
        var start = 0
        for end in (trace.splits.sorted() + [trace.blocks.count]) where end > start {
            for b in trace.blocks[start..<end] { sim.enqueue(block: b) }
            let session = try WIMSession(s, lastSequence: last) { e in
                switch e {
                case .weighing(let r): lines.append(r.jsonLine(p))
                case .gap(let m): lines.append("# gap \(m.lowerBound)-\(m.upperBound)")
                case .duplicate(let seq): lines.append("# duplicate \(seq)")
                default: break
                }
            }
            try session.connect()
            try session.drain()
            session.close()
            last = session.lastSequence
            start = end
        }
        let output = lines.joined(separator: "\n") + "\n"
        let check = file.deletingPathExtension().appendingPathExtension("chk")
        if ProcessInfo.processInfo.environment["WEIGHPOINT_RECORD_TRACES"] == "1" {
            try output.write(to: check, atomically: true, encoding: .utf8)
            Issue.record("re-recorded \(check.lastPathComponent); unset WEIGHPOINT_RECORD_TRACES and review the diff")
            return
        }
        let expected = try String(contentsOf: check, encoding: .utf8)
        #expect(output == expected, "\(file.lastPathComponent): decoded output differs from \(check.lastPathComponent)")
        #expect(lines.filter { !$0.hasPrefix("#") }.count == trace.blocks.count)
    }

    @Test func traceTextRoundTrips() throws {
        let t = WIMTrace(header: [("device", "tcp://x"), ("profile", "generic-wim-v1")], blocks: [[1, 0xABCD], [2, 3]], splits: [1])
        #expect(try WIMTrace.parse(t.text, source: "t") == t)
        #expect(throws: WIMProfileError.self) { try WIMTrace.parse("block 12 zz", source: "t") }
    }
}
