/// What the parser accepts at most. Every read of JSON names its limits; the defaults fit the
/// largest thing the unit or the receiver reads (a signed envelope with its record).
public struct JSONLimits: Sendable, Equatable {
    /// Total input size in bytes.
    public var maxBytes: Int
    /// Nesting of arrays and objects. The reader recurses once per level, so this bounds its
    /// stack: without it a body of 50 000 `[` posted to the unit overflowed the thread's stack.
    public var maxDepth: Int
    /// One string's size in bytes once unescaped.
    public var maxStringBytes: Int

    public init(maxBytes: Int = 4 << 20, maxDepth: Int = jsonMaxDepth, maxStringBytes: Int = 1 << 20) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
        self.maxStringBytes = maxStringBytes
    }

    public static let `default` = JSONLimits()
}

/// The deepest nesting accepted by default. Records, envelopes, acknowledgements and plate reads
/// nest at most five levels; 64 leaves room and costs a few kilobytes of stack.
public let jsonMaxDepth = 64

/// Why a text is not accepted, and where: the byte offset and its line and column (1-based,
/// columns in characters), so a technician or a peer's operator can find the fault.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public let offset: Int
    public let line: Int
    public let column: Int
    public let problem: String

    public var description: String { "line \(line), column \(column): \(problem)" }
}

extension JSONValue {
    /// Parses RFC 8259 JSON strictly: one value with optional whitespace around it, UTF-8 only
    /// (no byte-order mark), no control characters inside strings, only the escapes JSON defines,
    /// surrogates only in valid pairs, numbers in JSON's grammar (no leading zeros, `+`, `.5`,
    /// `NaN`), integers within Int64, finite doubles, each key at most once per object (a
    /// duplicated `plate` would mean whichever the reader kept), and within `limits`.
    public static func parse(_ bytes: [UInt8], limits: JSONLimits = .default) throws(JSONParseError) -> JSONValue {
        var r = StrictReader(bytes: bytes, limits: limits)
        if bytes.count > limits.maxBytes { throw r.fail("input is \(bytes.count) bytes, more than the limit of \(limits.maxBytes)", at: limits.maxBytes) }
        let v = try r.value()
        r.skipSpace()
        if r.i != bytes.count { throw r.fail("unexpected \(r.describeHere()) after the value") }
        return v
    }

    public static func parse(_ text: String, limits: JSONLimits = .default) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8), limits: limits)
    }
}

/// Parses trusted or already-bounded JSON (the unit's own files and records); nil for anything
/// `JSONValue.parse` refuses. Where the text comes from outside, call `JSONValue.parse` and
/// report its error.
public func parseJSON(_ bytes: [UInt8], maxDepth: Int = jsonMaxDepth) -> JSONValue? {
    try? JSONValue.parse(bytes, limits: JSONLimits(maxDepth: maxDepth))
}

private struct StrictReader {
    let bytes: [UInt8]
    let limits: JSONLimits
    var i = 0
    var depth = 0

    init(bytes: [UInt8], limits: JSONLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    func fail(_ problem: String, at offset: Int? = nil) -> JSONParseError {
        let at = min(offset ?? i, bytes.count)
        var line = 1, lineStart = 0
        for (k, b) in bytes[0..<at].enumerated() where b == 0x0A {
            line += 1
            lineStart = k + 1
        }
        // Columns count characters (UTF-8 lead bytes), as an editor shows them.
        let column = bytes[lineStart..<at].reduce(1) { $1 & 0xC0 == 0x80 ? $0 : $0 + 1 }
        return JSONParseError(offset: at, line: line, column: column, problem: problem)
    }

    func describeHere() -> String {
        guard i < bytes.count else { return "end of input" }
        let b = bytes[i]
        if b >= 0x21 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        return "byte 0x" + String(b, radix: 16, uppercase: true)
    }

    mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
    }

    mutating func expect(_ c: UInt8, _ what: String) throws(JSONParseError) {
        skipSpace()
        guard i < bytes.count, bytes[i] == c else { throw fail("expected \(what), found \(describeHere())") }
        i += 1
    }

    mutating func value() throws(JSONParseError) -> JSONValue {
        skipSpace()
        guard i < bytes.count else { throw fail("expected a value, found end of input") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        case 0xEF where i + 2 < bytes.count && bytes[i + 1] == 0xBB && bytes[i + 2] == 0xBF:
            throw fail("a byte-order mark is not allowed")
        default: throw fail("expected a value, found \(describeHere())")
        }
    }

    mutating func enter() throws(JSONParseError) {
        guard depth < limits.maxDepth else { throw fail("nested deeper than \(limits.maxDepth) levels") }
        depth += 1
        i += 1
    }

    mutating func object() throws(JSONParseError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        var o = JSONObject()
        var seen = Set<String>()
        skipSpace()
        if i < bytes.count && bytes[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
        while true {
            skipSpace()
            let keyAt = i
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a key in double quotes, found \(describeHere())") }
            let k = try string()
            guard seen.insert(k).inserted else { throw fail("key \"\(k)\" appears twice in one object", at: keyAt) }
            try expect(UInt8(ascii: ":"), "':' after the key")
            o[k] = try value()
            skipSpace()
            guard i < bytes.count else { throw fail("expected ',' or '}', found end of input") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
            throw fail("expected ',' or '}', found \(describeHere())")
        }
    }

    mutating func array() throws(JSONParseError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        var a: [JSONValue] = []
        skipSpace()
        if i < bytes.count && bytes[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
        while true {
            a.append(try value())
            skipSpace()
            guard i < bytes.count else { throw fail("expected ',' or ']', found end of input") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
            throw fail("expected ',' or ']', found \(describeHere())")
        }
    }

    mutating func literal(_ word: StaticString, _ v: JSONValue) throws(JSONParseError) -> JSONValue {
        let n = word.utf8CodeUnitCount
        let w = UnsafeBufferPointer(start: word.utf8Start, count: n)
        guard i + n <= bytes.count, bytes[i..<(i + n)].elementsEqual(w) else { throw fail("expected a value, found \(describeHere())") }
        i += n
        return v
    }

    func isDigit(_ k: Int) -> Bool { k < bytes.count && bytes[k] >= 0x30 && bytes[k] <= 0x39 }

    /// number = [ "-" ] ( "0" / 1-9 *DIGIT ) [ "." 1*DIGIT ] [ ( "e" / "E" ) [ "-" / "+" ] 1*DIGIT ]
    mutating func number() throws(JSONParseError) -> JSONValue {
        let start = i
        var isInteger = true
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard isDigit(i) else { throw fail("expected a digit after '-'") }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
            if isDigit(i) { throw fail("a number may not have a leading zero", at: start) }
        } else {
            while isDigit(i) { i += 1 }
        }
        if i < bytes.count && bytes[i] == UInt8(ascii: ".") {
            isInteger = false
            i += 1
            guard isDigit(i) else { throw fail("expected a digit after the decimal point") }
            while isDigit(i) { i += 1 }
        }
        if i < bytes.count && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
            isInteger = false
            i += 1
            if i < bytes.count && (bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-")) { i += 1 }
            guard isDigit(i) else { throw fail("expected a digit in the exponent") }
            while isDigit(i) { i += 1 }
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        if isInteger {
            if let v = Int64(text) { return .int(v) }
            // Beyond 64 bits an integer is taken only in the form RFC 8785 writes for a double
            // (1e20 is written 100000000000000000000), so what the writer emits parses back;
            // any other (9223372036854775808, which no double is written as) is refused.
            guard let d = Double(text), d.isFinite, ecmaScriptNumber(d) == text else {
                throw fail("integer \(text) is outside the 64-bit range", at: start)
            }
            return .double(d)
        }
        guard let d = Double(text), d.isFinite else { throw fail("number \(text) is outside the range of a double", at: start) }
        return .double(d)
    }

    mutating func string() throws(JSONParseError) -> String {
        let start = i
        i += 1
        var out: [UInt8] = []
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                guard let s = String(validating: out, as: UTF8.self) else { throw fail("string is not valid UTF-8", at: start) }
                return s
            }
            if out.count >= limits.maxStringBytes { throw fail("string longer than \(limits.maxStringBytes) bytes", at: start) }
            if c < 0x20 { throw fail("control character 0x\(String(c, radix: 16, uppercase: true)) inside a string (escape it)") }
            i += 1
            if c != UInt8(ascii: "\\") { out.append(c); continue }
            guard i < bytes.count else { break }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                let u = try hex4()
                var scalar = u
                if (0xD800..<0xDC00).contains(u) {
                    guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                        throw fail("high surrogate \\u\(String(u, radix: 16)) without its low surrogate")
                    }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw fail("high surrogate \\u\(String(u, radix: 16)) without its low surrogate") }
                    scalar = 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(u) {
                    throw fail("low surrogate \\u\(String(u, radix: 16)) without its high surrogate")
                }
                out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
            default:
                i -= 1
                throw fail("unknown escape \\\(describeHere())")
            }
        }
        throw fail("string not closed before the end of input", at: start)
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard i + 4 <= bytes.count, bytes[i..<(i + 4)].allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x66) }),
              let v = UInt32(String(decoding: bytes[i..<(i + 4)], as: UTF8.self), radix: 16)
        else { throw fail("expected four hex digits after \\u") }
        i += 4
        return v
    }
}
