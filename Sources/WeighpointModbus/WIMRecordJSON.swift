import WeighpointCore

extension WIMRecord {
    /// One JSON line: the record in engineering units, its flags, and whether the decision core
    /// would accept it as a valid weighing (with the reasons if not).
    public func jsonLine(_ profile: WIMProfile) -> String {
        func num(_ v: Int) -> JSONObjectWriter.Value { .number(String(v)) }
        func arr(_ xs: [String]) -> JSONObjectWriter.Value { .raw("[" + xs.joined(separator: ",") + "]") }
        var o = JSONObjectWriter()
        o.add("seq", .number(String(sequence)))
        o.add("time", .string(time.description))
        o.add("lane", num(lane))
        o.add("direction", .string(direction == 0 ? "forward" : "reverse"))
        o.add("speed_kmh", .number(String(speedKmh)))
        o.add("body", body.map { .string($0.rawValue) } ?? .null)
        o.add("drive_axles", num(driveAxles))
        o.add("axle_count", num(axleCount))
        o.add("axles", arr(zip(axleLoadsKg, tyres).map { #"{"kg":\#($0),"tyres":\#($1.map { jsonQuoted($0.rawValue) } ?? "null")}"# }))
        o.add("groups", arr(groups.map(String.init)))
        o.add("group_types", arr(groupTypes.map { $0.map { jsonQuoted($0.rawValue) } ?? "null" }))
        o.add("spacings_mm", arr(spacingsMm.map(String.init)))
        o.add("length_mm", num(lengthMm))
        o.add("gross_kg", num(grossKg))
        o.add("temperature_c", .number(String(temperatureC)))
        o.add("confidence", num(confidencePercent))
        o.add("status", num(Int(status)))
        o.add("flags", arr(flags(profile).map { jsonQuoted($0.rawValue) }))
        let reasons = weighing(profile).invalidityReasons()
        o.add("valid", .raw(reasons.isEmpty ? "true" : "false"))
        o.add("reasons", arr(reasons.map { jsonQuoted($0.description) }))
        return o.text
    }
}
