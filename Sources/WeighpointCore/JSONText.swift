/// Writes a JSON object with keys in insertion order (the order users read them in).
public struct JSONObjectWriter: Sendable {
    public enum Value: Sendable {
        case string(String)
        case number(String)
        case raw(String)
        case null
    }
    private var parts: [String] = []

    public var text: String { "{" + parts.joined(separator: ",") + "}" }

    public init() {}

    public mutating func add(_ key: String, _ value: Value) {
        parts.append(jsonQuoted(key) + ":" + value.text)
    }
}

extension JSONObjectWriter.Value {
    /// The value as JSON text.
    public var text: String {
        switch self {
        case .string(let s): jsonQuoted(s)
        case .number(let n), .raw(let n): n
        case .null: "null"
        }
    }
}

/// A JSON string literal; non-ASCII text (plates) stays as UTF-8.
public func jsonQuoted(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 {
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    return out + "\""
}
