import Foundation
import Logging
import Testing
import WeighpointConsole
import WeighpointCore
import WeighpointTesting
@testable import WeighpointService

@Suite struct ConsoleLockoutFileTests {
    @Test func theLockSurvivesInTheDataDirectory() throws {
        let dir = NSTemporaryDirectory() + "wp-lockout-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = ConsoleLockoutFile(path: dir + "/console-lockout.json", log: Logger(label: "test"))
        #expect(file.load() == ConsoleLockout(), "no file: no failures")
        let until = try #require(Timestamp(rfc3339: "2026-12-01T21:30:00.250Z"))
        file.save(ConsoleLockout(failures: 4, lockedUntil: until))
        #expect(file.load() == ConsoleLockout(failures: 4, lockedUntil: until))
        // What a person finds there, read by another tool.
        let text = try String(contentsOfFile: dir + "/console-lockout.json", encoding: .utf8)
        let python = try runProcess("/usr/bin/python3", ["-c", "import json,sys; d=json.load(open(sys.argv[1])); print(d['failures'], d['locked_until'])", dir + "/console-lockout.json"])
        #expect(python.stdout == "4 2026-12-01T21:30:00.250Z\n", "\(text)")
        file.save(ConsoleLockout())
        #expect(file.load() == ConsoleLockout())
        // A file that does not parse counts as no failures (and is logged).
        try "{failures: lots".write(toFile: dir + "/console-lockout.json", atomically: true, encoding: .utf8)
        #expect(file.load() == ConsoleLockout())
    }
}
