import WeighpointTOML
import Foundation
import WeighpointCore

/// The calibration profile as a TOML file (Calibration/README.md): `[profile]` with the format
/// and the speed-band width, an optional `[tolerance]`, and one `[[factor]]` per cell. The unit
/// writes it in one canonical layout (cells sorted, factors with four decimals), so the same
/// profile always has the same bytes and the same SHA-256.
public enum CalibrationFile {
    public static let format = "weighpoint.calibration/1"

    /// Parses; every problem is reported with its line and key. `lanes`: the station's lanes (a
    /// factor for another lane is a mistake).
    public static func parse(_ text: String, file: String, lanes: [Int]) throws(ConfigError) -> CalibrationProfile {
        let r = ConfigReader(file: file, text: text)
        let root = r.root(text)
        guard root.table != nil else { throw ConfigError(problems: r.problems) }
        root.rejectUnknown(["profile", "tolerance", "factor"])
        let p = root.section("profile")
        p.rejectUnknown(["format", "speed_band_kmh"])
        if let f = p.string("format"), f != format { r.problem(p.key("format"), "'\(f)' is not \(format)") }
        let width = p.int("speed_band_kmh", in: 1...50, required: false) ?? CalibrationProfile.defaultBandWidthKmh
        var profile = CalibrationProfile(bandWidthKmh: width)
        if root.has("tolerance") {
            let t = root.section("tolerance")
            t.rejectUnknown(["percent", "kg"])
            let pct = t.double("percent", in: 0...20) ?? 0
            if !isMultiple(pct, of: 100) { r.problem(t.key("percent"), "at most two decimals") }
            profile.tolerance = Tolerance(percentHundredths: Int((pct * 100).rounded()), kg: t.int("kg", in: 0...5000, required: false) ?? 0)
        }
        for f in root.sections("factor") {
            f.rejectUnknown(["lane", "speed_kmh", "axles", "factor"])
            guard let lane = f.int("lane", in: 1...16) else { continue }
            if !lanes.isEmpty && !lanes.contains(lane) { r.problem(f.key("lane"), "lane \(lane) is not one of the station's lanes \(lanes)") }
            var cell = CalibrationCell(lane: lane)
            if let band = f.string("speed_kmh", required: false) {
                let parts = band.split(separator: "-", omittingEmptySubsequences: false).compactMap { $0.isEmpty ? -1 : Int($0) }
                if parts.count == 2, parts[0] >= 0, parts[0] < 200, parts[0] % width == 0, parts[1] == parts[0] + width {
                    cell.speedFromKmh = parts[0]
                } else {
                    r.problem(f.key("speed_kmh"), "'\(band)' is not a \(width) km/h band starting at a multiple of \(width), e.g. \"40-\(40 + width)\"")
                }
            }
            if let a = f.string("axles", required: false) {
                if let c = AxleConfiguration(parsing: a) { cell.axles = c } else { r.problem(f.key("axles"), "'\(a)' is not axles per group joined by +, e.g. \"1+2+3\"") }
            }
            guard let v = f.double("factor", in: 0.8...1.2) else { continue }
            if !isMultiple(v, of: 10_000) { r.problem(f.key("factor"), "at most four decimals") }
            if profile.factors[cell] != nil { r.problem(f.key("factor"), "\(cell.describe(bandWidthKmh: width)) has a factor already") }
            profile.factors[cell] = CalibrationFactor(tenThousandths: Int((v * 10_000).rounded()))
        }
        if !r.problems.isEmpty { throw ConfigError(problems: r.problems) }
        return profile
    }

    private static func isMultiple(_ v: Double, of scale: Double) -> Bool { abs(v * scale - (v * scale).rounded()) < 1e-6 }

    /// The canonical text of a profile.
    public static func render(_ p: CalibrationProfile) -> String {
        var s = """
            # Weighpoint calibration profile: WIM correction factors and the tolerance.
            # Written by the unit when a technician changes it on the console; every change is in the
            # audit trail and every record names this file's SHA-256 (calibration_profile_sha256).
            # Format and procedure: Calibration/README.md. Edited by hand, the change is recorded at the
            # next start as made by "file".

            [profile]
            format = "\(format)"
            speed_band_kmh = \(p.bandWidthKmh)

            """
        if let t = p.tolerance {
            s += "\n[tolerance]\npercent = \(hundredthsText(t.percentHundredths))\nkg = \(t.kg)\n"
        }
        for (c, f) in p.factors.sorted(by: { $0.key < $1.key }) {
            s += "\n[[factor]]\nlane = \(c.lane)\n"
            if let b = c.speedFromKmh { s += "speed_kmh = \"\(b)-\(b + p.bandWidthKmh)\"\n" }
            if let a = c.axles { s += "axles = \"\(a)\"\n" }
            s += "factor = \(f)\n"
        }
        return s
    }

    static func hundredthsText(_ v: Int) -> String {
        v % 100 == 0 ? "\(v / 100)" : "\(v / 100).\(v % 100 < 10 ? "0" : "")\(v % 100)"
    }
}
