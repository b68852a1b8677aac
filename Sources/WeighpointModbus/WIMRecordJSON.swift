import WeighpointCore
import WeighpointJSON

extension WIMRecord {
    /// One JSON line: the record in engineering units, its flags, and whether the decision core
    /// would accept it as a valid weighing (with the reasons if not).
    public func jsonLine(_ profile: WIMProfile) -> String {
        let reasons = weighing(profile).invalidityReasons()
        let o: JSONObject = [
            "seq": .integer(sequence),
            "time": .string(time.description),
            "lane": .integer(lane),
            "direction": .string(direction == 0 ? "forward" : "reverse"),
            "speed_kmh": .double(speedKmh),
            "body": .nullable(body?.rawValue),
            "drive_axles": .integer(driveAxles),
            "axle_count": .integer(axleCount),
            "axles": .array(zip(axleLoadsKg, tyres).map { .object(["kg": .integer($0), "tyres": .nullable($1?.rawValue)]) }),
            "groups": .array(groups.map { .integer($0) }),
            "group_types": .array(groupTypes.map { .nullable($0?.rawValue) }),
            "spacings_mm": .array(spacingsMm.map { .integer($0) }),
            "length_mm": .integer(lengthMm),
            "gross_kg": .integer(grossKg),
            "temperature_c": .double(temperatureC),
            "confidence": .integer(confidencePercent),
            "status": .integer(status),
            "flags": .array(flags(profile).map { .string($0.rawValue) }),
            "valid": .bool(reasons.isEmpty),
            "reasons": .array(reasons.map { .string($0.description) }),
        ]
        return JSONValue.object(o).text
    }
}
