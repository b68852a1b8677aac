import Foundation
import TOMLKit
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

/// A profile file that cannot be used: which file, which key, what is wrong.
public struct WIMProfileError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let message: String
    public var description: String { "\(file): \(message)" }
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
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".toml") { return try load(path: nameOrPath) }
        for dir in searchDirectories {
            let path = dir + "/" + nameOrPath + ".toml"
            if FileManager.default.fileExists(atPath: path) { return try load(path: path) }
        }
        throw WIMProfileError(file: nameOrPath, message: "no profile named '\(nameOrPath)' in \(searchDirectories.joined(separator: ", "))")
    }

    public static func load(path: String) throws(WIMProfileError) -> WIMProfile {
        guard let data = FileManager.default.contents(atPath: path) else { throw WIMProfileError(file: path, message: "cannot read the file") }
        return try parse(String(decoding: data, as: UTF8.self), source: path)
    }

    /// Parses and validates profile text; every error names the key.
    public static func parse(_ text: String, source: String) throws(WIMProfileError) -> WIMProfile {
        func fail(_ m: String) -> WIMProfileError { WIMProfileError(file: source, message: m) }
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let e as TOMLParseError {
            throw fail("line \(e.source.begin.line), column \(e.source.begin.column): \(e.description)")
        } catch {
            throw fail("\(error)")
        }
        let r = TableReader(root, path: "", fail: fail)
        let profile = try r.table("profile")
        let handshakeT = try r.table("handshake")
        let record = try r.table("record")

        let wordOrderText = try profile.string("word_order")
        guard let wordOrder = WordOrder(rawValue: wordOrderText) else { throw fail("key 'profile.word_order': '\(wordOrderText)' is not high_first or low_first") }
        let block = try record.table("block")
        var p = WIMProfile(
            name: try profile.string("name"), description: try profile.optionalString("description") ?? "",
            wordOrder: wordOrder, unitId: try profile.int("unit_id", in: 0...247), maxAxles: try profile.int("max_axles", in: 2...32),
            handshake: .readyFlag(ready: RegisterField(address: 0)), magic: nil, faultCodeAddress: nil, faultCountAddress: nil,
            blockAddress: try block.int("address", in: 0...65535), blockLength: try block.int("length", in: 1...125),
            fields: [:], statusBits: [:], bodyCodes: [:], tyreCodes: [:], groupTypeCodes: [:], source: source)

        switch try handshakeT.string("kind") {
        case "counter":
            p.handshake = .counter(counter: try handshakeT.field("counter"), ack: try handshakeT.field("ack"))
        case "ready_flag":
            p.handshake = .readyFlag(ready: try handshakeT.field("ready"))
        case let other:
            throw fail("key 'handshake.kind': '\(other)' is not counter or ready_flag")
        }
        if handshakeT.has("magic") {
            let m = try handshakeT.table("magic")
            p.magic = (try m.int("address", in: 0...65535), UInt16(try m.int("value", in: 0...65535)))
        }
        if r.has("simulator") {
            let s = try r.table("simulator")
            p.faultCodeAddress = try s.int("fault_code", in: 0...65535)
            p.faultCountAddress = try s.int("fault_count", in: 0...65535)
        }
        for f in Field.allCases {
            var field = try record.field(f.rawValue)
            if f.isArray {
                let expected = f == .spacings ? p.maxAxles - 1 : p.maxAxles
                guard field.count == expected else {
                    throw fail("key 'record.\(f.rawValue).count': \(field.count), expected \(expected) for max_axles = \(p.maxAxles)")
                }
            } else if field.count != 1 {
                throw fail("key 'record.\(f.rawValue).count': a single value, not \(field.count)")
            }
            guard field.address >= p.blockAddress, field.end <= p.blockAddress + p.blockLength else {
                throw fail("key 'record.\(f.rawValue)': registers \(field.address)–\(field.end - 1) lie outside the record block \(p.blockAddress)–\(p.blockAddress + p.blockLength - 1)")
            }
            if field.scale == 0 { field.scale = 1 }
            p.fields[f] = field
        }
        // Overlapping fields would decode one value as two.
        let sorted = p.fields.sorted { $0.value.address < $1.value.address }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.value.end > b.value.address {
            throw fail("keys 'record.\(a.key.rawValue)' and 'record.\(b.key.rawValue)' overlap at register \(b.value.address)")
        }
        let bits = try r.table("status_bits")
        for key in bits.keys {
            p.statusBits[key] = try bits.int(key, in: 0...15)
        }
        if Set(p.statusBits.values).count != p.statusBits.count { throw fail("key 'status_bits': two flags share a bit") }
        let codes = try r.table("codes")
        let bodyT = try codes.table("body"), tyreT = try codes.table("tyres"), groupT = try codes.table("group_types")
        for b in VehicleBody.allCases { p.bodyCodes[b] = try bodyT.int(b.rawValue, in: 0...65535) }
        for t in TyreType.allCases { p.tyreCodes[t] = try tyreT.int(t.rawValue, in: 0...65535) }
        for g in GroupType.allCases { p.groupTypeCodes[g] = try groupT.int(g.rawValue, in: 0...65535) }
        return p
    }
}

/// Reads typed values from a TOML table, naming the full key in every error.
private struct TableReader {
    let table: TOMLTable
    let path: String
    let fail: (String) -> WIMProfileError

    init(_ table: TOMLTable, path: String, fail: @escaping (String) -> WIMProfileError) {
        self.table = table
        self.path = path
        self.fail = fail
    }

    func key(_ k: String) -> String { path.isEmpty ? k : "\(path).\(k)" }
    var keys: [String] { table.keys }
    func has(_ k: String) -> Bool { table.contains(key: k) }

    func table(_ k: String) throws(WIMProfileError) -> TableReader {
        guard let v = table[k] else { throw fail("missing table '\(key(k))'") }
        guard let t = v.table else { throw fail("key '\(key(k))' must be a table") }
        return TableReader(t, path: key(k), fail: fail)
    }

    func string(_ k: String) throws(WIMProfileError) -> String {
        guard let v = table[k] else { throw fail("missing key '\(key(k))'") }
        guard let s = v.string else { throw fail("key '\(key(k))' must be a string") }
        return s
    }

    func optionalString(_ k: String) throws(WIMProfileError) -> String? {
        has(k) ? try string(k) : nil
    }

    func int(_ k: String, in range: ClosedRange<Int>) throws(WIMProfileError) -> Int {
        guard let v = table[k] else { throw fail("missing key '\(key(k))'") }
        guard let i = v.int else { throw fail("key '\(key(k))' must be an integer") }
        guard range.contains(i) else { throw fail("key '\(key(k))': \(i) outside \(range.lowerBound)–\(range.upperBound)") }
        return i
    }

    func double(_ k: String) throws(WIMProfileError) -> Double {
        guard let v = table[k] else { throw fail("missing key '\(key(k))'") }
        if let d = v.double { return d }
        if let i = v.int { return Double(i) }
        throw fail("key '\(key(k))' must be a number")
    }

    func field(_ k: String) throws(WIMProfileError) -> RegisterField {
        let t = try table(k)
        let typeText = t.has("type") ? try t.string("type") : "u16"
        guard let type = RegisterField.ValueType(rawValue: typeText) else {
            throw fail("key '\(t.path).type': '\(typeText)' is not u16, s16, u32 or s32")
        }
        let scale = t.has("scale") ? try t.double("scale") : 1
        guard scale > 0 else { throw fail("key '\(t.path).scale': must be positive") }
        return RegisterField(
            address: try t.int("address", in: 0...65535), type: type, scale: scale,
            count: t.has("count") ? try t.int("count", in: 1...64) : 1, unit: try t.optionalString("unit"))
    }
}
