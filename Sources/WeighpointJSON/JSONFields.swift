/// A field of a parsed document that cannot be used: its path (`axles[0].kg`) and what is wrong.
public struct JSONFieldError: Error, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let problem: String

    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String {
        if path.isEmpty { return problem }
        return problem == Self.missing ? "missing key '\(path)'" : "key '\(path)' \(problem)"
    }

    static let missing = "is missing"
}

/// Typed reading of one JSON object, every error naming the field's full path: the one way
/// documents from files and peers become values (scenario lines, plate reads, acknowledgements).
/// Unknown keys are ignored; `null` counts as absent for optional fields.
public struct JSONFields: Sendable {
    public let object: JSONObject
    /// The path of this object inside the document ("" at the top).
    public let path: String

    public init(_ value: JSONValue, path: String = "") throws(JSONFieldError) {
        guard case .object(let o) = value else { throw JSONFieldError(path: path, problem: path.isEmpty ? "is not a JSON object" : "is not an object") }
        self.object = o
        self.path = path
    }

    public func pathOf(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// The raw value, nil when absent or null.
    public func value(_ key: String) -> JSONValue? {
        guard let v = object[key], v != .null else { return nil }
        return v
    }

    func missing(_ key: String) -> JSONFieldError { JSONFieldError(path: pathOf(key), problem: JSONFieldError.missing) }
    func wrongType(_ key: String, _ expected: String) -> JSONFieldError {
        JSONFieldError(path: pathOf(key), problem: "has the wrong type (expected \(expected))")
    }

    public func optionalString(_ key: String) throws(JSONFieldError) -> String? {
        guard let v = value(key) else { return nil }
        guard case .string(let s) = v else { throw wrongType(key, "a string") }
        return s
    }

    public func string(_ key: String) throws(JSONFieldError) -> String {
        guard let s = try optionalString(key) else { throw missing(key) }
        return s
    }

    /// An integer; a number with a zero fraction (`3.0`) counts as one.
    public func optionalInt(_ key: String) throws(JSONFieldError) -> Int64? {
        guard let v = value(key) else { return nil }
        guard let i = Self.integer(v) else { throw wrongType(key, "an integer") }
        return i
    }

    public func int(_ key: String) throws(JSONFieldError) -> Int64 {
        guard let i = try optionalInt(key) else { throw missing(key) }
        return i
    }

    public func optionalDouble(_ key: String) throws(JSONFieldError) -> Double? {
        guard let v = value(key) else { return nil }
        guard let d = v.numberValue else { throw wrongType(key, "a number") }
        return d
    }

    public func double(_ key: String) throws(JSONFieldError) -> Double {
        guard let d = try optionalDouble(key) else { throw missing(key) }
        return d
    }

    public func optionalBool(_ key: String) throws(JSONFieldError) -> Bool? {
        guard let v = value(key) else { return nil }
        guard case .bool(let b) = v else { throw wrongType(key, "true or false") }
        return b
    }

    public func optionalObject(_ key: String) throws(JSONFieldError) -> JSONFields? {
        guard let v = value(key) else { return nil }
        guard case .object = v else { throw wrongType(key, "an object") }
        return try JSONFields(v, path: pathOf(key))
    }

    public func optionalArray(_ key: String) throws(JSONFieldError) -> [JSONValue]? {
        guard let v = value(key) else { return nil }
        guard case .array(let a) = v else { throw wrongType(key, "an array") }
        return a
    }

    public func array(_ key: String) throws(JSONFieldError) -> [JSONValue] {
        guard let a = try optionalArray(key) else { throw missing(key) }
        return a
    }

    /// An array of objects, each readable with its own path (`cameras[2]`).
    public func optionalObjects(_ key: String) throws(JSONFieldError) -> [JSONFields]? {
        guard let a = try optionalArray(key) else { return nil }
        var out: [JSONFields] = []
        for (i, v) in a.enumerated() {
            guard case .object = v else { throw JSONFieldError(path: "\(pathOf(key))[\(i)]", problem: "has the wrong type (expected an object)") }
            out.append(try JSONFields(v, path: "\(pathOf(key))[\(i)]"))
        }
        return out
    }

    public func objects(_ key: String) throws(JSONFieldError) -> [JSONFields] {
        guard let a = try optionalObjects(key) else { throw missing(key) }
        return a
    }

    public func optionalInts(_ key: String) throws(JSONFieldError) -> [Int64]? {
        guard let a = try optionalArray(key) else { return nil }
        var out: [Int64] = []
        for (i, v) in a.enumerated() {
            guard let n = Self.integer(v) else { throw JSONFieldError(path: "\(pathOf(key))[\(i)]", problem: "has the wrong type (expected an integer)") }
            out.append(n)
        }
        return out
    }

    public func optionalStrings(_ key: String) throws(JSONFieldError) -> [String]? {
        guard let a = try optionalArray(key) else { return nil }
        var out: [String] = []
        for (i, v) in a.enumerated() {
            guard case .string(let s) = v else { throw JSONFieldError(path: "\(pathOf(key))[\(i)]", problem: "has the wrong type (expected a string)") }
            out.append(s)
        }
        return out
    }

    static func integer(_ v: JSONValue) -> Int64? {
        switch v {
        case .int(let i): i
        case .double(let d) where d.rounded() == d && abs(d) < 9.2e18: Int64(d)
        default: nil
        }
    }
}
