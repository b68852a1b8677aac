import Foundation

/// A capture of a WIM controller's record blocks, replayed against the driver in tests with the
/// expected output beside it (gpsd's regression pattern, STYLE.md). Text, one record per line:
///
///     # device: …            header lines: device, firmware, site, date, profile, link settings
///     # profile: generic-wim-v1
///     block 0000 0001 …      one record block as hex registers, as read
///     # split                a deliberate split point (a reconnect is simulated there)
public struct WIMTrace: Sendable, Equatable {
    public var header: [(key: String, value: String)]
    /// Record blocks in capture order; `splits` holds the indices a split point precedes.
    public var blocks: [[UInt16]]
    public var splits: Set<Int>

    public init(header: [(key: String, value: String)] = [], blocks: [[UInt16]] = [], splits: Set<Int> = []) {
        self.header = header
        self.blocks = blocks
        self.splits = splits
    }

    public static func == (a: WIMTrace, b: WIMTrace) -> Bool {
        a.header.map { "\($0.key)=\($0.value)" } == b.header.map { "\($0.key)=\($0.value)" } && a.blocks == b.blocks && a.splits == b.splits
    }

    /// The `profile:` header.
    public var profileName: String? { header.first { $0.key == "profile" }?.value }

    public static func parse(_ text: String, source: String) throws(WIMProfileError) -> WIMTrace {
        var t = WIMTrace()
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line == "# split" {
                t.splits.insert(t.blocks.count)
            } else if line.hasPrefix("#") {
                let body = line.dropFirst().trimmingCharacters(in: .whitespaces)
                if let colon = body.firstIndex(of: ":") {
                    t.header.append((String(body[..<colon]), body[body.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
                }
            } else if line.hasPrefix("block ") {
                var block: [UInt16] = []
                for word in line.dropFirst(6).split(separator: " ") {
                    guard let v = UInt16(word, radix: 16) else {
                        throw WIMProfileError(file: source, line: i + 1, key: "block", message: "'\(word)' is not a 16-bit hex register")
                    }
                    block.append(v)
                }
                t.blocks.append(block)
            } else {
                throw WIMProfileError(file: source, line: i + 1, message: "expected '# …' or 'block …'")
            }
        }
        return t
    }

    public var text: String {
        var out = header.map { "# \($0.key): \($0.value)" }.joined(separator: "\n") + "\n"
        for (i, b) in blocks.enumerated() {
            if splits.contains(i) { out += "# split\n" }
            out += "block " + b.map { hex4($0) }.joined(separator: " ") + "\n"
        }
        return out
    }

    /// One trace line for a block.
    public static func line(_ block: [UInt16]) -> String { "block " + block.map { hex4($0) }.joined(separator: " ") }
}

private func hex4(_ v: UInt16) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: 4 - s.count) + s
}
