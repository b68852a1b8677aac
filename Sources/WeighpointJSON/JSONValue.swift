// WeighpointJSON owns the unit's only JSON: one value type, one writer (RFC 8785 canonical bytes
// for what is signed and hashed, the same text in the written key order for what people read),
// and one strict, bounded parser for everything read back or received. It imports nothing but
// the standard library, so every module may use it.

/// A JSON value. Objects keep their members in the order they were written or read, so a line
/// meant for people can follow a documented key order; `canonicalText` sorts them (RFC 8785).
/// Integers without a fraction or exponent stay `.int`, so a record read back re-serialises to
/// the same canonical bytes.
public indirect enum JSONValue: Sendable, Equatable {
    case object(JSONObject)
    case array([JSONValue])
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case null

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var intValue: Int64? { if case .int(let i) = self { i } else { nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    public var objectValue: JSONObject? { if case .object(let o) = self { o } else { nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    /// A number of either kind as a Double.
    public var numberValue: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }

    /// `.string(s)`, or `.null` when nil: the common shape of optional fields.
    public static func nullable(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
    /// `.int(v)`, or `.null` when nil.
    public static func nullable<I: BinaryInteger>(_ v: I?) -> JSONValue { v.map { .int(Int64($0)) } ?? .null }
    /// `.int` from any integer type.
    public static func integer<I: BinaryInteger>(_ v: I) -> JSONValue { .int(Int64(v)) }
}

/// A JSON object's members in order, with at most one member per key. Two objects are equal
/// when they hold the same members, whatever their order (as JSON defines it).
public struct JSONObject: Sendable, Equatable, ExpressibleByDictionaryLiteral, Sequence {
    public private(set) var members: [(key: String, value: JSONValue)] = []

    public init() {}

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        for (k, v) in elements { self[k] = v }
    }

    /// From a dictionary: members in sorted key order, so the result does not depend on hashing.
    public init(_ dictionary: [String: JSONValue]) {
        for k in dictionary.keys.sorted() { members.append((k, dictionary[k]!)) }
    }

    /// Reading finds the member; assigning replaces it in place or appends it; assigning nil
    /// removes it.
    public subscript(key: String) -> JSONValue? {
        get { members.first { $0.key == key }?.value }
        set {
            let i = members.firstIndex { $0.key == key }
            switch (i, newValue) {
            case (let i?, let v?): members[i].value = v
            case (let i?, nil): members.remove(at: i)
            case (nil, let v?): members.append((key, v))
            case (nil, nil): break
            }
        }
    }

    public var keys: [String] { members.map(\.key) }
    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }

    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> { members.makeIterator() }

    /// The members as a dictionary (order dropped).
    public var dictionary: [String: JSONValue] {
        Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
    }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        a.count == b.count && a.members.allSatisfy { b[$0.key] == $0.value }
    }
}
