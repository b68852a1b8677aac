extension JSONValue {
    /// RFC 8785 (JSON Canonicalization Scheme): object keys sorted by UTF-16 code units, no
    /// insignificant whitespace, numbers in ECMAScript's shortest form, strings with only the
    /// mandatory escapes. Records are signed over these bytes, so the same record gives the same
    /// bytes on any machine.
    public var canonicalText: String {
        var out = ""
        write(into: &out, sorted: true)
        return out
    }

    /// The canonical bytes (UTF-8).
    public var canonicalBytes: [UInt8] { Array(canonicalText.utf8) }

    /// The same text as `canonicalText` but with object members in their written order: for
    /// output people read against a documented key order (replay lines, `wim read`).
    public var text: String {
        var out = ""
        write(into: &out, sorted: false)
        return out
    }

    private func write(into out: inout String, sorted: Bool) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += ecmaScriptNumber(d)
        case .string(let s): out += canonicalString(s)
        case .array(let a):
            out += "["
            for (i, v) in a.enumerated() {
                if i > 0 { out += "," }
                v.write(into: &out, sorted: sorted)
            }
            out += "]"
        case .object(let o):
            out += "{"
            var members = o.members
            if sorted { members.sort { $0.key.utf16.lexicographicallyPrecedes($1.key.utf16) } }
            for (i, m) in members.enumerated() {
                if i > 0 { out += "," }
                out += canonicalString(m.key)
                out += ":"
                m.value.write(into: &out, sorted: sorted)
            }
            out += "}"
        }
    }
}

/// RFC 8785 §3.2.2.2: escape `"`, `\` and control characters; \b \f \n \r \t by name, the rest
/// as \u00xx in lower-case hex; everything else, including non-ASCII, as UTF-8.
func canonicalString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u.value {
        case 0x22: out += "\\\""
        case 0x5C: out += "\\\\"
        case 0x08: out += "\\b"
        case 0x0C: out += "\\f"
        case 0x0A: out += "\\n"
        case 0x0D: out += "\\r"
        case 0x09: out += "\\t"
        case 0..<0x20:
            let hex = String(u.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(u)
        }
    }
    return out + "\""
}

/// ECMAScript Number::toString (RFC 8785 §3.2.2.3) from Swift's shortest round-trip digits.
func ecmaScriptNumber(_ d: Double) -> String {
    precondition(d.isFinite, "JSON has no NaN or infinity")
    if d == 0 { return "0" }
    let negative = d < 0
    // Swift's description gives the shortest digits that round-trip, as ECMAScript requires;
    // only the layout differs. Split it into digits and a decimal exponent.
    var text = "\(abs(d))"
    var exponent = 0
    if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
        exponent = Int(text[text.index(after: e)...])!
        text = String(text[..<e])
    }
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    let whole = String(parts[0]), frac = parts.count > 1 ? String(parts[1]) : ""
    var digits = whole + frac
    // Value = 0.digits × 10^n with n counting the whole part.
    var n = whole.count + exponent
    while digits.hasPrefix("0") {
        digits.removeFirst()
        n -= 1
    }
    while digits.hasSuffix("0") { digits.removeLast() }
    let k = digits.count
    var out: String
    if k <= n && n <= 21 {
        out = digits + String(repeating: "0", count: n - k)
    } else if 0 < n && n <= 21 {
        let i = digits.index(digits.startIndex, offsetBy: n)
        out = digits[..<i] + "." + digits[i...]
    } else if -6 < n && n <= 0 {
        out = "0." + String(repeating: "0", count: -n) + digits
    } else {
        let e = n - 1
        let mantissa = k == 1 ? digits : String(digits.first!) + "." + digits.dropFirst()
        out = mantissa + "e" + (e < 0 ? "-" : "+") + String(abs(e))
    }
    return (negative ? "-" : "") + out
}
