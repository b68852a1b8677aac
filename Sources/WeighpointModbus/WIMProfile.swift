import Foundation
import WeighpointTOML
import WeighpointCore

/// A WIM controller's register map, loaded from Hardware/wim/NAME.toml. The driver and the
/// simulator both read and write records through it, so a new controller needs a file, not code.
public struct WIMProfile: Sendable, Equatable {
    public var name: String
    public var description: String
    public var wordOrder: WordOrder
    public var unitId: Int
    public var maxAxles: Int
    public var handshake: Handshake
    /// A register that must hold a fixed value when the map is present.
    public var magic: (address: Int, value: UInt16)?
    /// Simulator-only registers that trigger fault injection.
    public var faultCodeAddress: Int?
    public var faultCountAddress: Int?
    /// The record block: read in one request.
    public var blockAddress: Int
    public var blockLength: Int
    public var fields: [Field: RegisterField]
    /// Flag name → bit of the status register.
    public var statusBits: [String: Int]
    public var bodyCodes: [VehicleBody: Int]
    public var tyreCodes: [TyreType: Int]
    public var groupTypeCodes: [GroupType: Int]
    /// What the controller can have measured at all (`[plausibility]`); beyond, a record is a fault.
    public var bounds = PhysicalBounds()
    /// Where the profile was loaded from, for messages.
    public var source: String

    public enum WordOrder: String, Sendable { case highFirst = "high_first", lowFirst = "low_first" }

    public enum Handshake: Sendable, Equatable {
        /// `counter`: sequence of the newest record; the unit writes a record's sequence to `ack`.
        case counter(counter: RegisterField, ack: RegisterField)
        /// `ready` is 1 while a record waits in the block; the unit writes 0 to acknowledge.
        case readyFlag(ready: RegisterField)
    }

    /// The record fields a profile must place.
    public enum Field: String, CaseIterable, Sendable {
        case sequence, time_s, time_ms, lane, direction, speed, axle_count, gross, length, temperature
        case confidence, status, body, drive_axles, axle_loads, axle_tyres, groups, group_types, spacings

        /// Fields holding one value per axle (or group, or gap between axles).
        var isArray: Bool { [.axle_loads, .axle_tyres, .groups, .group_types, .spacings].contains(self) }
    }

    public static func == (a: WIMProfile, b: WIMProfile) -> Bool {
        a.name == b.name && a.source == b.source && a.fields == b.fields && a.handshake == b.handshake
    }

    /// The register range the profile touches, for sizing a simulator's register table.
    public var highestAddress: Int {
        var top = blockAddress + blockLength
        if case .counter(let c, let a) = handshake { top = max(top, c.end, a.end) }
        if case .readyFlag(let r) = handshake { top = max(top, r.end) }
        for a in [magic?.address, faultCodeAddress, faultCountAddress].compactMap({ $0 }) { top = max(top, a + 1) }
        return top
    }
}

/// Group types a controller may report.
public enum GroupType: String, Sendable, CaseIterable {
    case unknown, steer, drive, non_driven, trailer
}

/// Where a value lives: address, encoding, scale to engineering units, and how many values.
public struct RegisterField: Sendable, Equatable {
    public enum ValueType: String, Sendable, CaseIterable { case u16, s16, u32, s32 }
    public var address: Int
    public var type: ValueType
    public var scale: Double
    public var count: Int
    public var unit: String?

    public init(address: Int, type: ValueType = .u16, scale: Double = 1, count: Int = 1, unit: String? = nil) {
        self.address = address
        self.type = type
        self.scale = scale
        self.count = count
        self.unit = unit
    }

    /// Registers per value.
    public var width: Int { type == .u32 || type == .s32 ? 2 : 1 }
    /// One past the last register used.
    public var end: Int { address + width * count }
}

/// A profile file that cannot be used: every problem found, each with file, line and key.
public struct WIMProfileError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let problems: [ConfigProblem]
    public var description: String { problems.map(\.description).joined(separator: "\n") }

    public init(file: String, problems: [ConfigProblem]) {
        self.file = file
        self.problems = ConfigError(problems: problems).problems
    }

    /// One problem: at `line` (nil: the file as a whole), under `key`.
    public init(file: String, line: Int? = nil, key: String = "-", message: String) {
        self.init(file: file, problems: [ConfigProblem(file: file, line: line, key: key, message: message)])
    }
}

extension WIMProfile {
    /// Directories searched for `NAME.toml`, in order: $WEIGHPOINT_HARDWARE_DIR/wim, ./Hardware/wim,
    /// the install location next to the executable, and this source tree's Hardware/wim.
    public static var searchDirectories: [String] {
        var dirs: [String] = []
        if let env = ProcessInfo.processInfo.environment["WEIGHPOINT_HARDWARE_DIR"] { dirs.append(env + "/wim") }
        dirs.append(FileManager.default.currentDirectoryPath + "/Hardware/wim")
        let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        dirs.append(exe.appendingPathComponent("../share/weighpoint/Hardware/wim").standardized.path)
        dirs.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Hardware/wim").standardized.path)
        return dirs
    }

    /// Loads a profile by name (searched as above) or by path (anything containing `/` or ending `.toml`).
    public static func load(_ nameOrPath: String) throws(WIMProfileError) -> WIMProfile {
        if isPath(nameOrPath) { return try load(path: nameOrPath) }
        return try load(path: locate(nameOrPath) { FileManager.default.fileExists(atPath: $0) })
    }

    /// Whether a profile reference is a path (contains `/` or ends `.toml`) rather than a name.
    public static func isPath(_ nameOrPath: String) -> Bool { nameOrPath.contains("/") || nameOrPath.hasSuffix(".toml") }

    /// The file of the profile named `name`: the first `NAME.toml` in `searchDirectories` that `exists`.
    public static func locate(_ name: String, exists: (String) -> Bool) throws(WIMProfileError) -> String {
        guard let path = searchDirectories.map({ $0 + "/" + name + ".toml" }).first(where: exists) else {
            throw WIMProfileError(file: name, message: "no profile named '\(name)' in \(searchDirectories.joined(separator: ", "))")
        }
        return path
    }

    public static func load(path: String) throws(WIMProfileError) -> WIMProfile {
        guard let data = FileManager.default.contents(atPath: path) else { throw WIMProfileError(file: path, message: "cannot read the file") }
        return try parse(String(decoding: data, as: UTF8.self), source: path)
    }

    /// Parses and validates profile text. Every problem is reported, each naming its line and key.
    public static func parse(_ text: String, source: String) throws(WIMProfileError) -> WIMProfile {
        let r = ConfigReader(file: source, text: text)
        let root = r.root(text)
        guard root.table != nil else { throw WIMProfileError(file: source, problems: r.problems) }
        root.rejectUnknown(["profile", "handshake", "record", "simulator", "status_bits", "codes", "plausibility"])
        let profile = root.section("profile"), handshakeT = root.section("handshake"), record = root.section("record")
        profile.rejectUnknown(["name", "description", "word_order", "unit_id", "max_axles"])
        let name = profile.string("name")
        let description = profile.string("description", required: false) ?? ""
        let wordOrder = profile.oneOf("word_order", ["high_first", "low_first"]).flatMap(WordOrder.init(rawValue:))
        let unitId = profile.int("unit_id", in: 0...247)
        let maxAxles = profile.int("max_axles", in: 2...32)
        let block = record.section("block")
        block.rejectUnknown(["address", "length"])
        let blockAddress = block.int("address", in: 0...65535), blockLength = block.int("length", in: 1...125)

        var handshake: Handshake?
        switch handshakeT.oneOf("kind", ["counter", "ready_flag"]) {
        case "counter":
            handshakeT.rejectUnknown(["kind", "counter", "ack", "magic"])
            if let c = field(handshakeT, "counter"), let a = field(handshakeT, "ack") { handshake = .counter(counter: c, ack: a) }
        case "ready_flag":
            handshakeT.rejectUnknown(["kind", "ready", "magic"])
            if let ready = field(handshakeT, "ready") { handshake = .readyFlag(ready: ready) }
        default: break
        }
        var magic: (address: Int, value: UInt16)?
        if handshakeT.has("magic") {
            let m = handshakeT.section("magic")
            m.rejectUnknown(["address", "value"])
            if let a = m.int("address", in: 0...65535), let v = m.int("value", in: 0...65535) { magic = (a, UInt16(v)) }
        }
        var faultCode: Int?, faultCount: Int?
        if root.has("simulator") {
            let s = root.section("simulator")
            s.rejectUnknown(["fault_code", "fault_count"])
            faultCode = s.int("fault_code", in: 0...65535)
            faultCount = s.int("fault_count", in: 0...65535)
        }
        var fields: [Field: RegisterField] = [:]
        record.rejectUnknown(Set(["block"] + Field.allCases.map(\.rawValue)))
        for f in Field.allCases {
            guard var rf = field(record, f.rawValue) else { continue }
            let key = record.key(f.rawValue)
            if f.isArray, let maxAxles {
                let expected = f == .spacings ? maxAxles - 1 : maxAxles
                if rf.count != expected { r.problem(key + ".count", "\(rf.count), expected \(expected) for max_axles = \(maxAxles)") }
            } else if !f.isArray, rf.count != 1 {
                r.problem(key + ".count", "a single value, not \(rf.count)")
            }
            if let blockAddress, let blockLength, rf.address < blockAddress || rf.end > blockAddress + blockLength {
                r.problem(key, "registers \(rf.address)–\(rf.end - 1) lie outside the record block \(blockAddress)–\(blockAddress + blockLength - 1)")
            }
            if rf.scale == 0 { rf.scale = 1 }
            fields[f] = rf
        }
        // Overlapping fields would decode one value as two.
        let order = Dictionary(uniqueKeysWithValues: Field.allCases.enumerated().map { ($1, $0) })
        let sorted = fields.sorted { ($0.value.address, order[$0.key]!) < ($1.value.address, order[$1.key]!) }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.value.end > b.value.address {
            r.problem(record.key(b.key.rawValue), "overlaps record.\(a.key.rawValue) at register \(b.value.address)")
        }
        var statusBits: [String: Int] = [:]
        let bits = root.section("status_bits")
        for key in bits.keys { if let b = bits.int(key, in: 0...15) { statusBits[key] = b } }
        if Set(statusBits.values).count != statusBits.count { r.problem("status_bits", "two flags share a bit") }
        let codes = root.section("codes")
        codes.rejectUnknown(["body", "tyres", "group_types"])
        func codeTable<T: RawRepresentable & CaseIterable & Hashable>(_ k: String, _: T.Type) -> [T: Int] where T.RawValue == String {
            let t = codes.section(k)
            t.rejectUnknown(Set(T.allCases.map(\.rawValue)))
            var out: [T: Int] = [:]
            for c in T.allCases { out[c] = t.int(c.rawValue, in: 0...65535) }
            return out
        }
        let bodyCodes = codeTable("body", VehicleBody.self), tyreCodes = codeTable("tyres", TyreType.self), groupCodes = codeTable("group_types", GroupType.self)
        // The controller's measuring ranges; never so tight that an overloaded vehicle is refused.
        var bounds = PhysicalBounds()
        if root.has("plausibility") {
            let pl = root.section("plausibility")
            pl.rejectUnknown(["max_axle_kg", "max_gross_kg", "max_speed_kmh", "min_axle_spacing_mm", "max_axle_spacing_mm"])
            bounds.maxAxleKg = pl.int("max_axle_kg", in: PhysicalBounds.floorAxleKg...200_000, required: false) ?? bounds.maxAxleKg
            bounds.maxGrossKg = pl.int("max_gross_kg", in: PhysicalBounds.floorGrossKg...1_000_000, required: false) ?? bounds.maxGrossKg
            bounds.maxSpeedKmh = pl.double("max_speed_kmh", in: 60...400, required: false) ?? bounds.maxSpeedKmh
            let lo = pl.int("min_axle_spacing_mm", in: 100...2_000, required: false) ?? bounds.axleSpacingMm.lowerBound
            let hi = pl.int("max_axle_spacing_mm", in: 5_000...50_000, required: false) ?? bounds.axleSpacingMm.upperBound
            bounds.axleSpacingMm = lo...hi
        }
        guard r.problems.isEmpty, let name, let wordOrder, let unitId, let maxAxles, let handshake, let blockAddress, let blockLength else {
            throw WIMProfileError(file: source, problems: r.problems)
        }
        var p = WIMProfile(
            name: name, description: description, wordOrder: wordOrder, unitId: unitId, maxAxles: maxAxles, handshake: handshake, magic: magic,
            faultCodeAddress: faultCode, faultCountAddress: faultCount, blockAddress: blockAddress, blockLength: blockLength, fields: fields,
            statusBits: statusBits, bodyCodes: bodyCodes, tyreCodes: tyreCodes, groupTypeCodes: groupCodes, source: source)
        p.bounds = bounds
        return p
    }

    /// A register field: `{ address, type = "u16", scale = 1, count = 1, unit }`.
    private static func field(_ parent: ConfigReader.Section, _ k: String) -> RegisterField? {
        let t = parent.section(k)
        guard t.table != nil else { return nil }
        t.rejectUnknown(["address", "type", "scale", "count", "unit"])
        let problemsBefore = t.reader.problems.count
        let type = RegisterField.ValueType(rawValue: t.oneOf("type", RegisterField.ValueType.allCases.map(\.rawValue), required: false) ?? "u16")
        let scale = t.double("scale", in: 0...1e9, required: false) ?? 1
        if scale <= 0 { t.reader.problem(t.key("scale"), "must be positive") }
        let address = t.int("address", in: 0...65535)
        let count = t.int("count", in: 1...64, required: false) ?? 1
        let unit = t.string("unit", required: false)
        guard t.reader.problems.count == problemsBefore, let type, let address else { return nil }
        return RegisterField(address: address, type: type, scale: scale, count: count, unit: unit)
    }
}
