import Foundation
import Testing
import WeighpointCore
@testable import WeighpointModbus
import WeighpointTesting
import WeighpointJSON

/// Interoperability with an independent Modbus implementation: Debian's python3-pymodbus
/// (3.0.0rc1, /usr/bin/python3), with its own encoder/decoder of the map written in Python.
@Suite(.serialized) struct PymodbusPeerTests {
    let python = "/usr/bin/python3"
    var peers: URL { packageRoot.appendingPathComponent("Tests/WeighpointModbusTests/Peers") }

    func requirePymodbus() throws {
        let r = try runProcess(python, ["-c", "import pymodbus"])
        guard r.status == 0 else {
            throw PeerMissing(what: "python3-pymodbus for \(python) (Scripts/install-deps installs it): \(r.stderr)")
        }
    }

    @Test func ourDriverReadsAPymodbusController() throws {
        try requirePymodbus()
        let records: [[String: Any]] = [
            ["seq": 41, "time_s": 1_795_000_000, "time_ms": 250, "lane": 2, "speed_kmh": 54.25, "axles_kg": [6500, 9000, 9000, 8000, 8000, 8000],
             "tyres": ["single", "dual", "dual", "dual", "dual", "dual"], "groups": [1, 1, 1, 3], "body": "combination", "drive_axles": 1, "status": 0],
            ["seq": 42, "time_s": 1_795_000_003, "time_ms": 0, "lane": 1, "speed_kmh": 71.5, "axles_kg": [7000, 11_000],
             "tyres": ["single", "dual"], "groups": [1, 1], "body": "rigid", "drive_axles": 1, "status": 2],
        ]
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wp-pymodbus-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let recordsFile = dir.appendingPathComponent("records.json")
        try JSONSerialization.data(withJSONObject: records).write(to: recordsFile)
        let port = freePort()
        let server = try spawn([python, peers.appendingPathComponent("pymodbus_wim_server.py").path, hardware.appendingPathComponent("generic-wim-v1.toml").path, String(port), recordsFile.path])
        defer {
            kill(server, SIGTERM)
            var st: Int32 = 0
            waitpid(server, &st, 0)
        }
        let p = try profile("generic-wim-v1")
        var s = WIMLinkSettings(transport: .tcp(host: "127.0.0.1", port: port), profile: p)
        s.responseTimeoutMs = 1000
        s.backoffInitialMs = 100
        let log = EventLog()
        let driver = WIMDriver(s) { log.append($0) }
        driver.start()
        _ = eventually(30) { log.records.count >= 2 }
        driver.stop()
        let got = log.records
        #expect(got.map(\.sequence) == [41, 42])
        guard got.count == 2 else { return }
        #expect(got[0].time == Timestamp(microseconds: 1_795_000_000_250_000))
        #expect(got[0].axleLoadsKg == [6500, 9000, 9000, 8000, 8000, 8000])
        #expect(got[0].grossKg == 48_500 && got[0].groups == [1, 1, 1, 3] && got[0].body == .combination)
        #expect(got[0].speedKmh == 54.25 && got[0].lane == 2)
        #expect(got[1].weighing(p).flags == [.acceleration])
        let decision = Assessor(rules: AssessmentRules()).assess(got[0].weighing(p), plates: [])
        #expect(decision.decision == .overload && decision.limit?.kg == 46_000 && decision.overloadKg == 2500)
    }

    @Test func aPymodbusClientReadsOurSimulator() throws {
        try requirePymodbus()
        let p = try profile("generic-wim-v1")
        let sim = try WIMSimulator(profile: p, transport: .tcp(host: "127.0.0.1", port: 0))
        try sim.start()
        defer { sim.stop() }
        let records = traffic(5)
        for r in records { sim.enqueue(r) }
        let r = try runProcess(python, [peers.appendingPathComponent("pymodbus_wim_client.py").path, hardware.appendingPathComponent("generic-wim-v1.toml").path, String(sim.port), "5"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(lines.map { $0["seq"] as? Int } == records.map { Int($0.sequence) })
        #expect(lines.map { $0["gross_kg"] as? Int } == records.map(\.grossKg))
        #expect(lines.map { $0["axles_kg"] as? [Int] } == records.map(\.axleLoadsKg))
        #expect(lines.map { $0["lane"] as? Int } == records.map(\.lane))
        #expect(sim.pendingCount == 0, "the Python client's acknowledgements were understood")
    }
}

struct PeerMissing: Error, CustomStringConvertible {
    let what: String
    var description: String { "independent peer missing: \(what)" }
}
