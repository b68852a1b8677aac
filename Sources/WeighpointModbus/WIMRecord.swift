import WeighpointCore

/// One vehicle record as a WIM controller reports it, in engineering units.
public struct WIMRecord: Sendable, Equatable {
    public var sequence: UInt64
    public var time: Timestamp
    public var lane: Int
    /// 0 forward, 1 reverse.
    public var direction: Int
    public var speedKmh: Double
    public var axleCount: Int
    public var grossKg: Int
    public var lengthMm: Int
    public var temperatureC: Double
    public var confidencePercent: Int
    /// Raw status register.
    public var status: UInt16
    public var body: VehicleBody?
    public var driveAxles: Int
    public var axleLoadsKg: [Int]
    public var tyres: [TyreType?]
    /// Axles per group, front first.
    public var groups: [Int]
    public var groupTypes: [GroupType?]
    public var spacingsMm: [Int]
    /// Problems found while decoding (unknown codes, counts that disagree), as invalidity reasons.
    public var decodeProblems: [InvalidityReason]
    /// The registers it was decoded from, for traces; empty for records made in memory.
    public var rawBlock: [UInt16] = []

    public init(
        sequence: UInt64, time: Timestamp, lane: Int, direction: Int = 0, speedKmh: Double, axleCount: Int, grossKg: Int,
        lengthMm: Int, temperatureC: Double = 15, confidencePercent: Int = 95, status: UInt16 = 0, body: VehicleBody?,
        driveAxles: Int, axleLoadsKg: [Int], tyres: [TyreType?], groups: [Int], groupTypes: [GroupType?], spacingsMm: [Int],
        decodeProblems: [InvalidityReason] = []
    ) {
        self.sequence = sequence
        self.time = time
        self.lane = lane
        self.direction = direction
        self.speedKmh = speedKmh
        self.axleCount = axleCount
        self.grossKg = grossKg
        self.lengthMm = lengthMm
        self.temperatureC = temperatureC
        self.confidencePercent = confidencePercent
        self.status = status
        self.body = body
        self.driveAxles = driveAxles
        self.axleLoadsKg = axleLoadsKg
        self.tyres = tyres
        self.groups = groups
        self.groupTypes = groupTypes
        self.spacingsMm = spacingsMm
        self.decodeProblems = decodeProblems
    }

    /// Flag names of the status bits set, per the profile; unnamed bits become "status_bit_N".
    public func flags(_ profile: WIMProfile) -> [WeighingFlag] {
        var out: [WeighingFlag] = []
        let names = Dictionary(uniqueKeysWithValues: profile.statusBits.map { ($0.value, $0.key) })
        for bit in 0..<16 where status & (1 << bit) != 0 {
            out.append(WeighingFlag(rawValue: names[bit] ?? "status_bit_\(bit)"))
        }
        return out
    }

    /// The weighing the decision core assesses. Decode problems travel with it and invalidate it.
    public func weighing(_ profile: WIMProfile) -> Weighing {
        var w = Weighing(
            seq: sequence, lane: lane, time: time, speedKmh: speedKmh, body: body ?? .rigid, driveAxles: driveAxles,
            axles: zip(axleLoadsKg, tyres).map { Axle(kg: $0, tyres: $1 ?? .dual) }, groups: groups,
            spacingsMm: spacingsMm, lengthMm: lengthMm, reportedGrossKg: grossKg, flags: flags(profile))
        w.decodeProblems = decodeProblems
        return w
    }
}

extension WIMProfile {
    // MARK: Values ↔ registers

    /// The raw integer at `index` of `field` in `block` (registers from `blockAddress`).
    func raw(_ field: RegisterField, _ index: Int = 0, in block: [UInt16]) -> Int64 {
        let at = field.address - blockAddress + index * field.width
        switch field.type {
        case .u16: return Int64(block[at])
        case .s16: return Int64(Int16(bitPattern: block[at]))
        case .u32, .s32:
            let (hi, lo) = wordOrder == .highFirst ? (block[at], block[at + 1]) : (block[at + 1], block[at])
            let v = UInt32(hi) << 16 | UInt32(lo)
            return field.type == .u32 ? Int64(v) : Int64(Int32(bitPattern: v))
        }
    }

    /// A 32-bit handshake value from registers read at its address.
    public func handshakeValue(_ field: RegisterField, _ registers: [UInt16]) -> UInt64 {
        if field.width == 1 { return UInt64(registers[0]) }
        let (hi, lo) = wordOrder == .highFirst ? (registers[0], registers[1]) : (registers[1], registers[0])
        return UInt64(UInt32(hi) << 16 | UInt32(lo))
    }

    public func handshakeRegisters(_ value: UInt64, _ field: RegisterField) -> [UInt16] {
        if field.width == 1 { return [UInt16(truncatingIfNeeded: value)] }
        let v = UInt32(truncatingIfNeeded: value)
        return wordOrder == .highFirst ? [UInt16(v >> 16), UInt16(v & 0xFFFF)] : [UInt16(v & 0xFFFF), UInt16(v >> 16)]
    }

    func scaled(_ f: Field, _ index: Int = 0, _ block: [UInt16]) -> Double {
        let field = fields[f]!
        return Double(raw(field, index, in: block)) * field.scale
    }

    func scaledInt(_ f: Field, _ index: Int = 0, _ block: [UInt16]) -> Int { Int(scaled(f, index, block).rounded()) }

    /// Decodes the record block. Never fails: what does not make sense becomes a decode problem
    /// that invalidates the weighing.
    public func decode(_ block: [UInt16]) -> WIMRecord {
        var r = decodeFields(block)
        r.rawBlock = block
        return r
    }

    private func decodeFields(_ block: [UInt16]) -> WIMRecord {
        precondition(block.count == blockLength, "record block of \(block.count) registers, profile says \(blockLength)")
        var problems: [InvalidityReason] = []
        let axleCount = scaledInt(.axle_count, 0, block)
        let bodyCode = Int(raw(fields[.body]!, in: block))
        let body = bodyCodes.first { $0.value == bodyCode }?.key
        if body == nil { problems.append(InvalidityReason(code: "unknown_body_code", detail: "register \(fields[.body]!.address): \(bodyCode)")) }
        if axleCount > maxAxles || axleCount < 0 {
            problems.append(InvalidityReason(code: "axle_count_mismatch", detail: "axle count \(axleCount) > \(maxAxles) slots"))
        }
        let n = min(max(axleCount, 0), maxAxles)
        var loads: [Int] = []
        var tyres: [TyreType?] = []
        for i in 0..<maxAxles {
            let kg = scaledInt(.axle_loads, i, block)
            if i < n {
                loads.append(kg)
                let code = Int(raw(fields[.axle_tyres]!, i, in: block))
                let t = tyreCodes.first { $0.value == code }?.key
                if t == nil { problems.append(InvalidityReason(code: "unknown_tyre_code", detail: "axle \(i + 1): \(code)")) }
                tyres.append(t)
            } else if kg != 0 {
                problems.append(InvalidityReason(code: "axle_count_mismatch", detail: "axle count \(axleCount) but axle \(i + 1) carries \(kg) kg"))
            }
        }
        if loads.contains(0) {
            problems.append(InvalidityReason(code: "axle_count_mismatch", detail: "axle count \(axleCount) but axle \(loads.firstIndex(of: 0)! + 1) carries 0 kg"))
        }
        var groups: [Int] = []
        var groupTypes: [GroupType?] = []
        for i in 0..<maxAxles {
            let size = scaledInt(.groups, i, block)
            if size == 0 { break }
            groups.append(size)
            let code = Int(raw(fields[.group_types]!, i, in: block))
            groupTypes.append(groupTypeCodes.first { $0.value == code }?.key)
        }
        let spacings = (0..<max(n - 1, 0)).map { scaledInt(.spacings, $0, block) }
        let seconds = raw(fields[.time_s]!, in: block)
        let ms = raw(fields[.time_ms]!, in: block)
        if ms > 999 { problems.append(InvalidityReason(code: "bad_time", detail: "milliseconds register holds \(ms)")) }
        return WIMRecord(
            sequence: UInt64(max(raw(fields[.sequence]!, in: block), 0)),
            time: Timestamp(microseconds: seconds * 1_000_000 + min(ms, 999) * 1000),
            lane: scaledInt(.lane, 0, block), direction: scaledInt(.direction, 0, block),
            speedKmh: (scaled(.speed, 0, block) * 1000).rounded() / 1000, axleCount: axleCount,
            grossKg: scaledInt(.gross, 0, block), lengthMm: scaledInt(.length, 0, block),
            temperatureC: (scaled(.temperature, 0, block) * 100).rounded() / 100,
            confidencePercent: scaledInt(.confidence, 0, block), status: UInt16(truncatingIfNeeded: raw(fields[.status]!, in: block)),
            body: body, driveAxles: scaledInt(.drive_axles, 0, block), axleLoadsKg: loads, tyres: tyres, groups: groups,
            groupTypes: groupTypes, spacingsMm: spacings, decodeProblems: problems)
    }
}
