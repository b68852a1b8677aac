import WeighpointCore
import WeighpointModbus

// The controller's side of a register map: only the simulator and tests write record blocks, so
// this is not in the shipped WeighpointModbus.
extension WIMProfile {
    /// Encodes a record into a record block (the simulator's side of the map).
    public func encode(_ r: WIMRecord) -> [UInt16] {
        var block = [UInt16](repeating: 0, count: blockLength)
        put(Int64(r.sequence), fields[.sequence]!, into: &block)
        put(r.time.microseconds / 1_000_000, fields[.time_s]!, into: &block)
        put(r.time.microseconds % 1_000_000 / 1000, fields[.time_ms]!, into: &block)
        putScaled(Double(r.lane), .lane, into: &block)
        putScaled(Double(r.direction), .direction, into: &block)
        putScaled(r.speedKmh, .speed, into: &block)
        putScaled(Double(r.axleCount), .axle_count, into: &block)
        putScaled(Double(r.grossKg), .gross, into: &block)
        putScaled(Double(r.lengthMm), .length, into: &block)
        putScaled(r.temperatureC, .temperature, into: &block)
        putScaled(Double(r.confidencePercent), .confidence, into: &block)
        put(Int64(r.status), fields[.status]!, into: &block)
        put(Int64(r.body.flatMap { bodyCodes[$0] } ?? 0xFFFF), fields[.body]!, into: &block)
        putScaled(Double(r.driveAxles), .drive_axles, into: &block)
        for (i, kg) in r.axleLoadsKg.prefix(maxAxles).enumerated() { putScaled(Double(kg), .axle_loads, i, into: &block) }
        for (i, t) in r.tyres.prefix(maxAxles).enumerated() { put(Int64(t.flatMap { tyreCodes[$0] } ?? 0xFFFF), fields[.axle_tyres]!, i, into: &block) }
        for (i, g) in r.groups.prefix(maxAxles).enumerated() { putScaled(Double(g), .groups, i, into: &block) }
        for (i, g) in r.groupTypes.prefix(maxAxles).enumerated() { put(Int64(g.flatMap { groupTypeCodes[$0] } ?? 0), fields[.group_types]!, i, into: &block) }
        for (i, s) in r.spacingsMm.prefix(maxAxles - 1).enumerated() { putScaled(Double(s), .spacings, i, into: &block) }
        return block
    }

    func put(_ value: Int64, _ field: RegisterField, _ index: Int = 0, into block: inout [UInt16]) {
        let at = field.address - blockAddress + index * field.width
        switch field.type {
        case .u16, .s16: block[at] = UInt16(truncatingIfNeeded: value)
        case .u32, .s32:
            let v = UInt32(truncatingIfNeeded: value)
            let (hi, lo) = (UInt16(v >> 16), UInt16(v & 0xFFFF))
            if wordOrder == .highFirst { (block[at], block[at + 1]) = (hi, lo) } else { (block[at], block[at + 1]) = (lo, hi) }
        }
    }

    func putScaled(_ value: Double, _ f: Field, _ index: Int = 0, into block: inout [UInt16]) {
        let field = fields[f]!
        put(Int64((value / field.scale).rounded()), field, index, into: &block)
    }

}
