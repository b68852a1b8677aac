import Testing
import WeighpointCore
@testable import WeighpointScenario

let station = #"{"type":"station","lanes":2,"cameras":[{"id":"front-1","lane":1,"role":"front","distance_m":12.0}],"match_window_ms":1500}"#
let goodWeighing = #"{"type":"weighing","seq":1,"lane":1,"time":"2026-11-20T08:00:00.000Z","speed_kmh":54,"body":"rigid","drive_axles":1,"axles":[{"kg":7000,"tyres":"single"},{"kg":10500,"tyres":"dual"}],"groups":[1,1],"flags":[]}"#

func parseError(_ lines: [String]) -> ScenarioError? {
    do {
        _ = try Scenario.parse(lines.joined(separator: "\n"))
        return nil
    } catch {
        return error
    }
}

@Suite struct ScenarioParseTests {
    @Test func commentsAndBlankLinesAreSkippedButCounted() throws {
        let s = try Scenario.parse(["# a comment", "", station, "   ", goodWeighing].joined(separator: "\n"))
        #expect(s.weighings.count == 1)
        #expect(s.weighings[0].line == 5)
    }

    @Test func unknownFieldsAreIgnored() throws {
        let w = goodWeighing.replacingOccurrences(of: #""flags":[]"#, with: #""flags":[],"vendor":{"x":1}"#)
        #expect(try Scenario.parse([station, w].joined(separator: "\n")).weighings.count == 1)
    }

    @Test(arguments: [
        ("{not json", 2, "not a JSON object"),
        (#"{"seq":1}"#, 2, "missing key 'type'"),
        (#"{"type":"lorry"}"#, 2, "unknown event type 'lorry'"),
        (goodWeighing.replacingOccurrences(of: #""speed_kmh":54,"#, with: ""), 2, "weighing: missing key 'speed_kmh'"),
        (goodWeighing.replacingOccurrences(of: #""lane":1"#, with: #""lane":"one""#), 2, "key 'lane' has the wrong type"),
        (goodWeighing.replacingOccurrences(of: #""kg":7000"#, with: #""kg":"heavy""#), 2, "key 'axles[0].kg' has the wrong type"),
        (goodWeighing.replacingOccurrences(of: "08:00:00.000Z", with: "08:00"), 2, "key 'time': '2026-11-20T08:00' is not an RFC 3339 time"),
        (goodWeighing.replacingOccurrences(of: "rigid", with: "van"), 2, "key 'body': 'van'"),
        (goodWeighing.replacingOccurrences(of: #""tyres":"dual""#, with: #""tyres":"triple""#), 2, "key 'axles[1].tyres'"),
        (station, 2, "a second station event"),
        (#"{"type":"plate","camera":"front-9","lane":1,"time":"2026-11-20T08:00:00.800Z","text":"苏A12345","color":"yellow","confidence":0.9}"#, 2, "camera 'front-9'"),
        (#"{"type":"plate","camera":"front-1","lane":1,"time":"2026-11-20T08:00:00.800Z","text":"苏A12345","color":"purple","confidence":0.9}"#, 2, "key 'color': 'purple'"),
        (#"{"type":"plate","camera":"front-1","lane":1,"time":"2026-11-20T08:00:00.800Z","text":"苏A12345","color":"blue","confidence":1.5}"#, 2, "key 'confidence'"),
        (#"{"type":"permit","plate":"苏A1","valid_from":"2026-11-01T00:00:00.000Z","valid_until":"2026-12-01T00:00:00.000Z","max_gross_kg":60000}"#, 2, "key 'plate': plate '苏A1' has 3 characters"),
        (#"{"type":"permit","plate":"苏A12345","valid_from":"2026-12-01T00:00:00.000Z","valid_until":"2026-11-01T00:00:00.000Z","max_gross_kg":60000}"#, 2, "is not after valid_from"),
    ])
    func malformedLineNamesItsNumberAndWhatIsWrong(line: String, number: Int, says: String) {
        let error = parseError([station, line, goodWeighing])
        #expect(error?.line == number)
        #expect(error?.message.contains(says) == true, "\(error?.description ?? "no error")")
    }

    @Test func stationAfterAWeighingIsRefused() {
        let error = parseError([goodWeighing, station])
        #expect(error?.line == 2)
        #expect(error?.message.contains("after a weighing") == true)
    }

    @Test(arguments: [
        (#""tolerance":{"percent":2.555,"kg":0}"#, "at most 2 decimals"),
        (#""tolerance":{"percent":-1}"#, "tolerance.percent"),
        (#""tolerance":{"kg":-5}"#, "tolerance.kg"),
        (#""match_window_ms":-1"#, "match_window_ms"),
    ])
    func badStationSettingsAreRefused(fragment: String, says: String) {
        let s = station.replacingOccurrences(of: #""match_window_ms":1500"#, with: fragment)
        let error = parseError([s])
        #expect(error?.line == 1)
        #expect(error?.message.contains(says) == true, "\(error?.description ?? "no error")")
    }

    @Test func cameraOutsideTheLanesIsRefused() {
        let s = station.replacingOccurrences(of: #""lane":1"#, with: #""lane":3"#)
        #expect(parseError([s])?.message.contains("cameras[0].lane") == true)
    }

    @Test func stationSettingsReachTheRules() throws {
        let s = station.replacingOccurrences(of: #""match_window_ms":1500"#, with: #""match_window_ms":900,"tolerance":{"percent":2.5,"kg":100},"axle_load_limits":true"#)
        let parsed = try Scenario.parse(s)
        #expect(parsed.station.matchWindowMs == 900)
        #expect(parsed.station.rules.tolerance == Tolerance(percentHundredths: 250, kg: 100))
        #expect(parsed.station.rules.axleLoadLimits == AxleLoadLimits())
    }

    @Test func axleFindingsAppearWhenConfigured() throws {
        let s = station.replacingOccurrences(of: #""match_window_ms":1500"#, with: #""axle_load_limits":{"single_axle_single_tyre_kg":6500}"#)
        let line = try Scenario.parse([s, goodWeighing].joined(separator: "\n")).replay()[0].jsonLine
        #expect(line.contains(#""axle_findings":[{"rule":"GB-1589-2016-4.3","group":1,"axles":[1],"kg":7000,"limit_kg":6500,"over_kg":500}]"#), "\(line)")
        #expect(line.contains(#""decision":"ok""#))
    }
}
