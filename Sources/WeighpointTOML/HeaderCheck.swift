/// A check of table headers before the text reaches toml++ (inside TOMLKit): toml++ asserts
/// (and in a release build assumes) that a header's first non-blank character after `[` or `[[`
/// starts a key, so `[[#factor]]`, `[.x]` or `[[[x]]` in a configuration would abort the
/// process instead of being reported. Every header is checked here first; a bad one is a
/// FILE:LINE problem and the text is not handed on.
///
/// The scan follows TOML's lexical structure far enough to find headers only where they can be:
/// at the start of a line, outside strings (basic, literal, multi-line), comments, arrays and
/// inline tables.
enum HeaderCheck {
    /// (line, message) of each header whose key does not start with a key character.
    static func problems(_ text: String) -> [(line: Int, message: String)] {
        var out: [(Int, String)] = []
        var depth = 0  // open arrays and inline tables of a value
        var multiline: [UInt8]?  // the closing delimiter of an open multi-line string
        var lineNumber = 0
        for line in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let bytes = Array(line)
            var i = 0
            func at(_ k: Int) -> UInt8? { k < bytes.count ? bytes[k] : nil }
            if multiline == nil && depth == 0 {
                while let c = at(i), c == 0x20 || c == 0x09 { i += 1 }
                if at(i) == UInt8(ascii: "[") {
                    var k = i + 1
                    if at(k) == UInt8(ascii: "[") { k += 1 }
                    while let c = at(k), c == 0x20 || c == 0x09 { k += 1 }
                    if let c = at(k) {
                        if !startsKey(c) {
                            let shown = c < 0x80 && c >= 0x20 ? "'\(Character(Unicode.Scalar(c)))'" : "a non-ASCII or control character"
                            out.append((lineNumber, "table header: a key (a name of A–Z a–z 0–9 _ -, or a quoted string) must follow the '[', not \(shown)"))
                        }
                    } else {
                        out.append((lineNumber, "table header: a key (a name of A–Z a–z 0–9 _ -, or a quoted string) must follow the '[' on its line"))
                    }
                    continue  // a header holds no value: nothing of it carries over to the next line
                }
            }
            while i < bytes.count {
                let c = bytes[i]
                if let close = multiline {
                    if close == Array("\"\"\"".utf8), c == UInt8(ascii: "\\") { i += 2; continue }
                    if Array(bytes[i...].prefix(3)) == close {
                        multiline = nil
                        i += 3
                    } else { i += 1 }
                    continue
                }
                switch c {
                case UInt8(ascii: "#"): i = bytes.count
                case UInt8(ascii: "\""), UInt8(ascii: "'"):
                    if at(i + 1) == c && at(i + 2) == c {
                        multiline = [c, c, c]
                        i += 3
                    } else {
                        i += 1
                        while let d = at(i), d != c {
                            i += (c == UInt8(ascii: "\"") && d == UInt8(ascii: "\\")) ? 2 : 1
                        }
                        i += 1
                    }
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    depth += 1
                    i += 1
                case UInt8(ascii: "]"), UInt8(ascii: "}"):
                    depth = max(0, depth - 1)
                    i += 1
                default: i += 1
                }
            }
        }
        return out
    }

    /// What toml++ lets start a key: a bare-key character, a quote, or the ']' of an empty header
    /// (which it reports itself).
    static func startsKey(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "]"):
            return true
        default: return false
        }
    }
}
