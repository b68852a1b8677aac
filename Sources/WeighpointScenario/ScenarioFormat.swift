import Foundation
import WeighpointCore

/// A scenario in the `weighpoint replay` format (SCENARIOS.md), parsed.
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
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            let trimmed = line.drop(while: { $0 == " " || $0 == "\t" })
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let n = lineNumber
            func fail(_ message: String) -> ScenarioError { ScenarioError(line: n, message: message) }
            let data = Data(trimmed.utf8)
            let type: String
            do {
                type = try JSONDecoder().decode(EventType.self, from: data).type
            } catch {
                throw fail(describe(error, event: "event"))
            }
            do {
                switch type {
                case "station":
                    guard !sawStation else { throw fail("a second station event; at most one is allowed") }
                    guard scenario.weighings.isEmpty else { throw fail("station event after a weighing; it must come first") }
                    sawStation = true
                    scenario.station = try JSONDecoder().decode(StationLine.self, from: data).setup(fail)
                case "permit":
                    scenario.permits.append(try JSONDecoder().decode(PermitLine.self, from: data).permit(fail))
                case "watch":
                    let entry = try JSONDecoder().decode(WatchLine.self, from: data)
                    do {
                        _ = try Plate(parsing: entry.plate)
                    } catch {
                        throw fail("key 'plate': \(error)")
                    }
                    scenario.watchEntries.append((entry.list ?? "watch", entry.plate))
                case "weighing":
                    scenario.weighings.append((n, try JSONDecoder().decode(WeighingLine.self, from: data).weighing(fail)))
                case "plate":
                    let read = try JSONDecoder().decode(PlateLine.self, from: data).read(fail)
                    guard sawStation, scenario.station.cameras.contains(where: { $0.id == read.camera }) else {
                        throw fail("plate read from camera '\(read.camera)', which the station event does not list")
                    }
                    scenario.reads.append((n, read))
                default:
                    throw fail("unknown event type '\(type)' (expected station, permit, watch, weighing or plate)")
                }
            } catch let e as ScenarioError {
                throw e
            } catch {
                throw fail(describe(error, event: type))
            }
        }
        return scenario
    }
}

/// Turns a decoding error into "what and where" for a person fixing the file.
func describe(_ error: Error, event: String) -> String {
    func path(_ keys: [CodingKey], _ last: CodingKey? = nil) -> String {
        var parts: [String] = []
        for k in keys + (last.map { [$0] } ?? []) {
            if let i = k.intValue { parts.append("[\(i)]") } else { parts.append((parts.isEmpty ? "" : ".") + k.stringValue) }
        }
        return parts.joined()
    }
    guard let e = error as? DecodingError else { return "\(event): \(error)" }
    switch e {
    case .keyNotFound(let key, let ctx):
        return "\(event): missing key '\(path(ctx.codingPath, key))'"
    case .typeMismatch(let type, let ctx):
        return "\(event): key '\(path(ctx.codingPath))' has the wrong type (expected \(type))"
    case .valueNotFound(let type, let ctx):
        return "\(event): key '\(path(ctx.codingPath))' is null (expected \(type))"
    case .dataCorrupted(let ctx):
        if ctx.codingPath.isEmpty { return "not a JSON object: \(ctx.underlyingError.map { "\($0)" } ?? ctx.debugDescription)" }
        return "\(event): key '\(path(ctx.codingPath))': \(ctx.debugDescription)"
    @unknown default:
        return "\(event): \(error)"
    }
}

private struct EventType: Decodable { let type: String }

private func timestamp(_ text: String, key: String, _ fail: (String) -> ScenarioError) throws(ScenarioError) -> Timestamp {
    guard let t = Timestamp(rfc3339: text) else { throw fail("key '\(key)': '\(text)' is not an RFC 3339 time") }
    return t
}

private struct StationLine: Decodable {
    struct ToleranceLine: Decodable {
        let percent: Double?
        let kg: Int?
    }
    struct CameraLine: Decodable {
        let id: String
        let lane: Int
        let role: String
        let distance_m: Double
    }
    struct AxleLimitsLine: Decodable {
        let single_axle_single_tyre_kg: Int?
        let single_axle_dual_tyre_kg: Int?
        let single_drive_axle_dual_tyre_kg: Int?
        let tandem_kg: Int?
        let tridem_kg: Int?
    }
    let lanes: Int?
    let tolerance: ToleranceLine?
    let cameras: [CameraLine]?
    let match_window_ms: Int64?
    /// Optional GB 1589 axle-load findings: `true` for the defaults or an object of limits.
    let axle_load_limits: AxleLimitsLine?

    enum CodingKeys: String, CodingKey { case lanes, tolerance, cameras, match_window_ms, axle_load_limits }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        lanes = try c.decodeIfPresent(Int.self, forKey: .lanes)
        tolerance = try c.decodeIfPresent(ToleranceLine.self, forKey: .tolerance)
        cameras = try c.decodeIfPresent([CameraLine].self, forKey: .cameras)
        match_window_ms = try c.decodeIfPresent(Int64.self, forKey: .match_window_ms)
        if let flag = try? c.decodeIfPresent(Bool.self, forKey: .axle_load_limits) {
            axle_load_limits = flag ? AxleLimitsLine(single_axle_single_tyre_kg: nil, single_axle_dual_tyre_kg: nil, single_drive_axle_dual_tyre_kg: nil, tandem_kg: nil, tridem_kg: nil) : nil
        } else {
            axle_load_limits = try c.decodeIfPresent(AxleLimitsLine.self, forKey: .axle_load_limits)
        }
    }

    func setup(_ fail: (String) -> ScenarioError) throws(ScenarioError) -> StationSetup {
        var s = StationSetup()
        if let lanes {
            guard lanes >= 1 else { throw fail("key 'lanes': \(lanes) is not a lane count (≥ 1)") }
            s.lanes = lanes
        }
        if let w = match_window_ms {
            guard w >= 0 else { throw fail("key 'match_window_ms': \(w) is negative") }
            s.matchWindowMs = w
        }
        if let t = tolerance {
            let percent = t.percent ?? 0
            let hundredths = (percent * 100).rounded()
            guard percent >= 0, percent <= 100, abs(hundredths - percent * 100) < 1e-6 else {
                throw fail("key 'tolerance.percent': \(percent) must be 0–100 with at most 2 decimals")
            }
            guard (t.kg ?? 0) >= 0 else { throw fail("key 'tolerance.kg': \(t.kg ?? 0) is negative") }
            s.rules.tolerance = Tolerance(percentHundredths: Int(hundredths), kg: t.kg ?? 0)
        }
        var ids = Set<String>()
        for (i, c) in (cameras ?? []).enumerated() {
            guard let role = CameraRole(rawValue: c.role) else {
                throw fail("key 'cameras[\(i)].role': '\(c.role)' is not front, rear or side")
            }
            guard c.lane >= 1 && c.lane <= s.lanes else {
                throw fail("key 'cameras[\(i)].lane': lane \(c.lane) outside 1–\(s.lanes)")
            }
            guard ids.insert(c.id).inserted else { throw fail("key 'cameras[\(i)].id': '\(c.id)' listed twice") }
            s.cameras.append(Camera(id: c.id, lane: c.lane, role: role, distanceM: c.distance_m))
        }
        if let a = axle_load_limits {
            var limits = AxleLoadLimits()
            if let v = a.single_axle_single_tyre_kg { limits.singleAxleSingleTyreKg = v }
            if let v = a.single_axle_dual_tyre_kg { limits.singleAxleDualTyreKg = v }
            if let v = a.single_drive_axle_dual_tyre_kg { limits.singleDriveAxleDualTyreKg = v }
            if let v = a.tandem_kg { limits.tandemKg = v }
            if let v = a.tridem_kg { limits.tridemKg = v }
            s.rules.axleLoadLimits = limits
        }
        return s
    }
}

private struct PermitLine: Decodable {
    let plate: String
    let valid_from: String
    let valid_until: String
    let max_gross_kg: Int

    func permit(_ fail: (String) -> ScenarioError) throws(ScenarioError) -> Permit {
        do {
            _ = try Plate(parsing: plate)
        } catch {
            throw fail("key 'plate': \(error)")
        }
        let from = try timestamp(valid_from, key: "valid_from", fail)
        let until = try timestamp(valid_until, key: "valid_until", fail)
        guard from < until else { throw fail("key 'valid_until': \(valid_until) is not after valid_from \(valid_from)") }
        guard max_gross_kg > 0 else { throw fail("key 'max_gross_kg': \(max_gross_kg) is not a mass") }
        return Permit(plate: plate, validFrom: from, validUntil: until, maxGrossKg: max_gross_kg)
    }
}

/// `{"type":"watch","list":"wanted","plate":"苏A12345"}`: an entry of a named watch list.
private struct WatchLine: Decodable {
    let list: String?
    let plate: String
}

private struct WeighingLine: Decodable {
    struct AxleLine: Decodable {
        let kg: Int
        let tyres: String?
    }
    let seq: UInt64
    let lane: Int
    let time: String
    let speed_kmh: Double
    let body: String
    let drive_axles: Int?
    let axles: [AxleLine]
    let groups: [Int]?
    let spacings_mm: [Int]?
    let length_mm: Int?
    let gross_kg: Int?
    let flags: [String]?

    func weighing(_ fail: (String) -> ScenarioError) throws(ScenarioError) -> Weighing {
        guard let body = VehicleBody(rawValue: body) else { throw fail("key 'body': '\(body)' is not rigid or combination") }
        var axles: [Axle] = []
        for (i, a) in self.axles.enumerated() {
            let tyresText = a.tyres ?? "dual"
            guard let tyres = TyreType(rawValue: tyresText) else {
                throw fail("key 'axles[\(i)].tyres': '\(tyresText)' is not single, dual or wide")
            }
            axles.append(Axle(kg: a.kg, tyres: tyres))
        }
        return Weighing(
            seq: seq, lane: lane, time: try timestamp(time, key: "time", fail), speedKmh: speed_kmh, body: body,
            driveAxles: drive_axles, axles: axles, groups: groups ?? Array(repeating: 1, count: axles.count),
            spacingsMm: spacings_mm ?? [], lengthMm: length_mm, reportedGrossKg: gross_kg,
            flags: (flags ?? []).map(WeighingFlag.init(rawValue:)))
    }
}

private struct PlateLine: Decodable {
    let camera: String
    let lane: Int?
    let time: String
    let text: String
    let color: String?
    let confidence: Double?

    func read(_ fail: (String) -> ScenarioError) throws(ScenarioError) -> PlateRead {
        let colorText = color ?? "unknown"
        guard let color = PlateColor(rawValue: colorText) else {
            throw fail("key 'color': '\(colorText)' is not one of \(PlateColor.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let confidence = self.confidence ?? 1
        guard (0...1).contains(confidence) else { throw fail("key 'confidence': \(confidence) outside 0–1") }
        return PlateRead(camera: camera, time: try timestamp(time, key: "time", fail), text: text, color: color, confidence: confidence)
    }
}
