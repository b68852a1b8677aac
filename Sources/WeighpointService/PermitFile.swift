import WeighpointTOML
import Foundation
import WeighpointCore

/// A permit file: CSV lines `plate,max_gross_kg,valid_from,valid_until` (RFC 3339 times), `#`
/// comments. A bad line stops start-up with its line number: a permit silently dropped would
/// turn a permitted vehicle into a violation.
public enum PermitFile {
    public static func read(_ path: String, files: any ConfigFiles = LocalConfigFiles()) throws(ConfigError) -> [Permit] {
        guard let data = files.contents(path) else {
            throw ConfigError(problems: [ConfigProblem(file: path, line: nil, key: "-", message: "cannot read the permit file")])
        }
        return try parse(data, path: path)
    }

    /// Every row of a permit file's bytes, each bad one a problem with its line.
    public static func parse(_ data: [UInt8], path: String) throws(ConfigError) -> [Permit] {
        var out: [Permit] = []
        var problems: [ConfigProblem] = []
        for (i, raw) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if fields.isEmpty || fields == [""] { continue }
            func bad(_ m: String) { problems.append(ConfigProblem(file: path, line: i + 1, key: "permit", message: m)) }
            guard fields.count == 4 else { bad("expected plate,max_gross_kg,valid_from,valid_until; got \(fields.count) fields"); continue }
            guard (try? Plate(parsing: fields[0])) != nil else { bad("'\(fields[0])' is not a plate"); continue }
            guard let kg = Int(fields[1]), kg > 0, kg < 200_000 else { bad("max_gross_kg '\(fields[1])' is not a mass in kg"); continue }
            guard let from = Timestamp(rfc3339: fields[2]), let until = Timestamp(rfc3339: fields[3]) else { bad("valid_from/valid_until must be RFC 3339 times"); continue }
            guard from < until else { bad("valid_until is not after valid_from"); continue }
            out.append(Permit(plate: fields[0], validFrom: from, validUntil: until, maxGrossKg: kg))
        }
        if !problems.isEmpty { throw ConfigError(problems: problems) }
        return out
    }
}
