import Foundation
import Testing
import WeighpointTesting
import WeighpointCore
@testable import WeighpointScenario
import WeighpointJSON

/// The package's root directory, found from this file's path.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Scenario files with an `.expected.jsonl` beside them: in Scenarios/ (the demo's) and in this
/// test target's Scenarios/.
func scenarioFiles() -> [URL] {
    let dirs = [packageRoot.appendingPathComponent("Scenarios"), packageRoot.appendingPathComponent("Tests/WeighpointScenarioTests/Scenarios")]
    return dirs.flatMap { dir in
        ((try? FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)) ?? [])
            .filter { $0.lastPathComponent.hasSuffix(".jsonl") && !$0.lastPathComponent.hasSuffix(".expected.jsonl") }
    }.sorted { $0.path < $1.path }
}

func jsonObjects(_ text: String) -> [[String: Any]] {
    text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }.map {
        (try! JSONSerialization.jsonObject(with: Data($0.utf8))) as! [String: Any]
    }
}

/// Compares the fields an expectation names; `reason_contains` checks a substring of `reason`.
func mismatches(expected: [String: Any], actual: [String: Any]) -> [String] {
    var out: [String] = []
    for (key, want) in expected {
        if key == "reason_contains" {
            let reason = actual["reason"] as? String ?? ""
            if !reason.contains(want as! String) { out.append("reason '\(reason)' lacks '\(want)'") }
            continue
        }
        let got = actual[key]
        let same: Bool
        switch (want, got) {
        case (is NSNull, is NSNull), (is NSNull, nil): same = true
        case (let w as NSNumber, let g as NSNumber): same = w.doubleValue == g.doubleValue
        case (let w as String, let g as String): same = w == g
        case (let w as [Any], let g as [Any]):
            same = (try? JSONSerialization.data(withJSONObject: w, options: .sortedKeys)) == (try? JSONSerialization.data(withJSONObject: g, options: .sortedKeys))
        default: same = false
        }
        if !same { out.append("\(key): expected \(want), got \(got.map { "\($0)" } ?? "nothing")") }
    }
    return out
}

@Suite struct ScenarioReplayTests {
    @Test func thereAreScenariosToReplay() {
        #expect(scenarioFiles().count >= 2)
    }

    @Test(arguments: scenarioFiles())
    func replaysToTheExpectedDecisions(file: URL) throws {
        let expectedURL = file.deletingPathExtension().appendingPathExtension("expected.jsonl")
        let scenario = try Scenario.parse(String(contentsOf: file, encoding: .utf8))
        let actual = jsonObjects(scenario.replay().map(\.jsonLine).joined(separator: "\n"))
        let expected = jsonObjects(try String(contentsOf: expectedURL, encoding: .utf8))
        #expect(actual.count == expected.count, "one decision per weighing")
        for (e, a) in zip(expected, actual) {
            #expect((a["seq"] as? NSNumber)?.intValue == (e["seq"] as? NSNumber)?.intValue, "decisions in weighing order")
            let problems = mismatches(expected: e, actual: a)
            #expect(problems.isEmpty, "\(file.lastPathComponent) seq \(e["seq"]!): \(problems.joined(separator: "; "))")
        }
    }

    @Test(arguments: scenarioFiles())
    func outputDoesNotDependOnTheOrderOfEvents(file: URL) throws {
        // Reads may come before or after their weighing; permits anywhere. Shuffle every line
        // but the station, keeping weighings in their relative order.
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map(String.init)
        let reference = try Scenario.parse(lines.joined(separator: "\n")).replay().map(\.jsonLine)
        var rng = SplitMix64(seed: 42)
        for _ in 0..<5 {
            let station = lines.filter { $0.contains("\"station\"") }
            let weighings = lines.filter { $0.contains("\"weighing\"") }
            var others = lines.filter { !$0.contains("\"station\"") && !$0.contains("\"weighing\"") && !$0.hasPrefix("#") }
            others.shuffle(using: &rng)
            var merged: [String] = []
            var wi = 0
            for o in others {
                if wi < weighings.count && Bool.random(using: &rng) { merged.append(weighings[wi]); wi += 1 }
                merged.append(o)
            }
            merged += weighings[wi...]
            let shuffled = try Scenario.parse((station + merged).joined(separator: "\n")).replay().map(\.jsonLine)
            #expect(shuffled == reference)
        }
    }

    @Test func outputKeysComeInTheDocumentedOrder() throws {
        let file = packageRoot.appendingPathComponent("Scenarios/demo-station.jsonl")
        let line = try Scenario.parse(String(contentsOf: file, encoding: .utf8)).replay()[0].jsonLine
        let keys = ["seq", "decision", "plate", "plate_color", "rear_plate", "axles", "gross_kg", "limit_kg", "tolerance_kg", "overload_kg", "overload_ratio", "rule", "permit", "reason"]
        let positions = keys.map { line.range(of: "\"\($0)\":")?.lowerBound }
        #expect(!positions.contains(nil), "\(line)")
        #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted(), "\(line)")
    }

    @Test(arguments: [(543, "0.0543"), (-278, "-0.0278"), (1600, "0.16"), (0, "0"), (12_345, "1.2345"), (10_000, "1")])
    func ratiosAreWrittenExactly(ratio10k: Int, text: String) {
        // The ratio goes out as the double nearest ratio10k / 10 000, in the shortest form that
        // reads back as that double, so the printed decimal is exactly the ten-thousandths.
        let printed = JSONValue.double(Double(ratio10k) / 10_000).text
        #expect(printed == text)
        #expect(Int((Double(printed)! * 10_000).rounded()) == ratio10k)
    }
}
