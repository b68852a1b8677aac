// WeighpointScenario owns the `weighpoint replay` format (Docs/decision-core.md): parsing
// scenario lines and printing decisions. It may import Core and JSON.
import WeighpointCore
import WeighpointJSON

/// A scenario in the `weighpoint replay` format (Docs/decision-core.md), parsed.
public struct Scenario: Sendable {
    public var station: StationSetup
    public var permits: [Permit]
    /// Watch-list entries (list name, plate), in input order.
    public var watchEntries: [(list: String, plate: String)] = []
    /// Weighings in input order, with the line each came from.
    public var weighings: [(line: Int, weighing: Weighing)]
    public var reads: [(line: Int, read: PlateRead)]

    public init(station: StationSetup = StationSetup(), permits: [Permit] = [], weighings: [(line: Int, weighing: Weighing)] = [], reads: [(line: Int, read: PlateRead)] = []) {
        self.station = station
        self.permits = permits
        self.weighings = weighings
        self.reads = reads
    }
}

/// The `station` event: lanes, cameras, association window, rules.
public struct StationSetup: Sendable {
    public var lanes: Int = 1
    public var cameras: [Camera] = []
    public var matchWindowMs: Int64 = 1500
    public var rules = AssessmentRules()

    public init() {}
}

/// A scenario line that cannot be used, with its line number (from 1).
public struct ScenarioError: Error, CustomStringConvertible, Equatable {
    public let line: Int
    public let message: String

    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { "line \(line): \(message)" }
}

extension Scenario {
    /// Parses JSON Lines text. Blank lines and lines starting with `#` are skipped; unknown
    /// fields are ignored; the first malformed line throws `ScenarioError` with its number.
    public static func parse(_ text: String) throws(ScenarioError) -> Scenario {
        var scenario = Scenario()
        var sawStation = false
        var lineNumber = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let text = raw.hasSuffix("\r") ? raw.dropLast() : raw
            let trimmed = text.drop(while: { $0 == " " || $0 == "\t" })
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            var line = try EventLine(number: lineNumber, text: trimmed)
            switch line.event {
            case "station":
                guard !sawStation else { throw line.fail("a second station event; at most one is allowed") }
                guard scenario.weighings.isEmpty else { throw line.fail("station event after a weighing; it must come first") }
                sawStation = true
                scenario.station = try line.stationSetup()
            case "permit":
                scenario.permits.append(try line.permit())
            case "watch":
                let plate = try line.field { try $0.string("plate") }
                do {
                    _ = try Plate(parsing: plate)
                } catch {
                    throw line.fail("key 'plate': \(error)")
                }
                scenario.watchEntries.append((try line.field { try $0.optionalString("list") } ?? "watch", plate))
            case "weighing":
                scenario.weighings.append((lineNumber, try line.weighing()))
            case "plate":
                let read = try line.plateRead()
                guard sawStation, scenario.station.cameras.contains(where: { $0.id == read.camera }) else {
                    throw line.fail("plate read from camera '\(read.camera)', which the station event does not list")
                }
                scenario.reads.append((lineNumber, read))
            default:
                line.event = "event"
                throw line.fail("unknown event type '\(try line.field { try $0.string("type") })' (expected station, permit, watch, weighing or plate)")
            }
        }
        return scenario
    }
}

/// One scenario line is one small event: a megabyte and eight levels are far beyond any.
private let lineLimits = JSONLimits(maxBytes: 1 << 20, maxDepth: 8, maxStringBytes: 64 << 10)

/// One event line being read: its number, its fields and its type, so every error says
/// "line N: weighing: key 'axles[0].kg' has the wrong type (expected an integer)".
private struct EventLine {
    let number: Int
    let fields: JSONFields
    var event = "event"

    init(number: Int, text: Substring) throws(ScenarioError) {
        self.number = number
        do {
            fields = try JSONFields(try JSONValue.parse(Array(text.utf8), limits: lineLimits))
        } catch let e as JSONParseError {
            throw ScenarioError(line: number, message: "not a JSON object: \(e)")
        } catch {
            throw ScenarioError(line: number, message: "not a JSON object")
        }
        event = try field { try $0.string("type") }
    }

    func fail(_ message: String) -> ScenarioError { ScenarioError(line: number, message: message) }

    /// Runs a field read; a field error becomes this line's error, prefixed with the event.
    func field<T>(_ read: (JSONFields) throws -> T) throws(ScenarioError) -> T {
        do { return try read(fields) } catch { throw fail("\(event): \(error)") }
    }

    func timestamp(_ key: String) throws(ScenarioError) -> Timestamp {
        let text = try field { try $0.string(key) }
        guard let t = Timestamp(rfc3339: text) else { throw fail("key '\(key)': '\(text)' is not an RFC 3339 time") }
        return t
    }

    func stationSetup() throws(ScenarioError) -> StationSetup {
        var s = StationSetup()
        if let lanes = try field({ try $0.optionalInt("lanes") }) {
            guard lanes >= 1 else { throw fail("key 'lanes': \(lanes) is not a lane count (≥ 1)") }
            s.lanes = Int(lanes)
        }
        if let w = try field({ try $0.optionalInt("match_window_ms") }) {
            guard w >= 0 else { throw fail("key 'match_window_ms': \(w) is negative") }
            s.matchWindowMs = w
        }
        if let t = try field({ try $0.optionalObject("tolerance") }) {
            let percent = try field { _ in try t.optionalDouble("percent") } ?? 0
            let kg = try field { _ in try t.optionalInt("kg") } ?? 0
            let hundredths = (percent * 100).rounded()
            guard percent >= 0, percent <= 100, abs(hundredths - percent * 100) < 1e-6 else {
                throw fail("key 'tolerance.percent': \(percent) must be 0–100 with at most 2 decimals")
            }
            guard kg >= 0 else { throw fail("key 'tolerance.kg': \(kg) is negative") }
            s.rules.tolerance = Tolerance(percentHundredths: Int(hundredths), kg: Int(kg))
        }
        var ids = Set<String>()
        for (i, c) in try field({ try $0.optionalObjects("cameras") ?? [] }).enumerated() {
            let (id, lane, roleText, distance) = try field { _ in
                (try c.string("id"), try c.int("lane"), try c.string("role"), try c.double("distance_m"))
            }
            guard let role = CameraRole(rawValue: roleText) else {
                throw fail("key 'cameras[\(i)].role': '\(roleText)' is not front, rear or side")
            }
            guard lane >= 1 && lane <= s.lanes else {
                throw fail("key 'cameras[\(i)].lane': lane \(lane) outside 1–\(s.lanes)")
            }
            guard ids.insert(id).inserted else { throw fail("key 'cameras[\(i)].id': '\(id)' listed twice") }
            s.cameras.append(Camera(id: id, lane: Int(lane), role: role, distanceM: distance))
        }
        // Optional GB 1589 axle-load findings: `true` for the defaults or an object of limits.
        if case .bool(true)? = fields.value("axle_load_limits") {
            s.rules.axleLoadLimits = AxleLoadLimits()
        } else if case .bool(false)? = fields.value("axle_load_limits") {
        } else if let a = try field({ try $0.optionalObject("axle_load_limits") }) {
            var limits = AxleLoadLimits()
            func kg(_ key: String) throws(ScenarioError) -> Int? { try field { _ in try a.optionalInt(key) }.map { Int($0) } }
            if let v = try kg("single_axle_single_tyre_kg") { limits.singleAxleSingleTyreKg = v }
            if let v = try kg("single_axle_dual_tyre_kg") { limits.singleAxleDualTyreKg = v }
            if let v = try kg("single_drive_axle_dual_tyre_kg") { limits.singleDriveAxleDualTyreKg = v }
            if let v = try kg("tandem_kg") { limits.tandemKg = v }
            if let v = try kg("tridem_kg") { limits.tridemKg = v }
            s.rules.axleLoadLimits = limits
        }
        return s
    }

    func permit() throws(ScenarioError) -> Permit {
        let (plate, validFrom, validUntil, maxGross) = try field { f in
            (try f.string("plate"), try f.string("valid_from"), try f.string("valid_until"), try f.int("max_gross_kg"))
        }
        do {
            _ = try Plate(parsing: plate)
        } catch {
            throw fail("key 'plate': \(error)")
        }
        let from = try timestamp("valid_from")
        let until = try timestamp("valid_until")
        guard from < until else { throw fail("key 'valid_until': \(validUntil) is not after valid_from \(validFrom)") }
        guard maxGross > 0 else { throw fail("key 'max_gross_kg': \(maxGross) is not a mass") }
        return Permit(plate: plate, validFrom: from, validUntil: until, maxGrossKg: Int(maxGross))
    }

    func weighing() throws(ScenarioError) -> Weighing {
        let seq = try field { try $0.int("seq") }
        guard seq >= 0 else { throw fail("\(event): key 'seq' has the wrong type (expected a sequence number ≥ 0)") }
        let lane = try field { try $0.int("lane") }
        let time = try timestamp("time")
        let speed = try field { try $0.double("speed_kmh") }
        let bodyText = try field { try $0.string("body") }
        guard let body = VehicleBody(rawValue: bodyText) else { throw fail("key 'body': '\(bodyText)' is not rigid or combination") }
        var axles: [Axle] = []
        for (i, a) in try field({ try $0.objects("axles") }).enumerated() {
            let (kg, tyresText) = try field { _ in (try a.int("kg"), try a.optionalString("tyres") ?? "dual") }
            guard let tyres = TyreType(rawValue: tyresText) else {
                throw fail("key 'axles[\(i)].tyres': '\(tyresText)' is not single, dual or wide")
            }
            axles.append(Axle(kg: Int(kg), tyres: tyres))
        }
        let (drive, groups, spacings, length, gross, flags) = try field { f in
            (try f.optionalInt("drive_axles"), try f.optionalInts("groups"), try f.optionalInts("spacings_mm"),
             try f.optionalInt("length_mm"), try f.optionalInt("gross_kg"), try f.optionalStrings("flags"))
        }
        return Weighing(
            seq: UInt64(seq), lane: Int(lane), time: time, speedKmh: speed, body: body,
            driveAxles: drive.map { Int($0) }, axles: axles, groups: groups?.map { Int($0) } ?? Array(repeating: 1, count: axles.count),
            spacingsMm: spacings?.map { Int($0) } ?? [], lengthMm: length.map { Int($0) }, reportedGrossKg: gross.map { Int($0) },
            flags: (flags ?? []).map(WeighingFlag.init(rawValue:)))
    }

    func plateRead() throws(ScenarioError) -> PlateRead {
        let (camera, text, colorText, confidence) = try field { f in
            (try f.string("camera"), try f.string("text"), try f.optionalString("color") ?? "unknown", try f.optionalDouble("confidence") ?? 1)
        }
        _ = try field { try $0.optionalInt("lane") }
        let time = try timestamp("time")
        guard let color = PlateColor(rawValue: colorText) else {
            throw fail("key 'color': '\(colorText)' is not one of \(PlateColor.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard (0...1).contains(confidence) else { throw fail("key 'confidence': \(confidence) outside 0–1") }
        return PlateRead(camera: camera, time: time, text: text, color: color, confidence: confidence)
    }
}
